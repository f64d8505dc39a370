// vMix over its TCP API: one request in flight, tally by subscription, input
// names and program/preview from the XML document. State is only ever what
// vMix reports (TALLY pushes, XML), never what we asked for.
import { type Static, Type } from '@sinclair/typebox';
import { type ActionDefinition, type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
import { CommandQueue } from '../../src/transport/queue.js';
import { TcpLink } from '../../src/transport/tcp.js';
import { DeviceError, errorMessage } from '../../src/util/errors.js';
import { encodeFunction, parseTally, parseVmixXml, tallyInputs, type VmixMessage, VmixParser } from './protocol.js';

export const VmixConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Address of the vMix PC.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8099, description: 'vMix TCP API port (fixed at 8099 in vMix).' }),
    request_timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000, description: 'Per-request reply timeout.' }),
    poll_interval_ms: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 10_000,
      description: 'Liveness probe period: the XML document is re-read (input names); any answer, `XML ER` included, counts.',
    }),
  },
  { additionalProperties: false },
);
export type VmixConfig = Static<typeof VmixConfigSchema>;

const InputParam = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], {
  description: 'Input number (1-based), title or key.',
});

export function createVmix(config: VmixConfig, ctx: DriverContext): DeviceInstance {
  const port = config.port ?? 8099;
  const link = new TcpLink({ host: config.host, port, logger: ctx.logger, clock: ctx.clock, connectTimeoutMs: 3000 });
  const parser = new VmixParser();
  const queue = new CommandQueue<VmixMessage>({
    timeoutMs: config.request_timeout_ms ?? 3000,
    maxPending: ctx.queueMax,
    clock: ctx.clock,
  });
  /** Settles the handshake's wait for vMix's `VERSION OK` greeting. */
  let greeting: ((version: string) => void) | null = null;

  function request(label: string, line: string, signal?: AbortSignal): Promise<VmixMessage> {
    return queue.request(label, () => link.write(line), { signal });
  }

  function applyTally(digits: string): void {
    const tally = parseTally(digits);
    const { program, preview } = tallyInputs(tally);
    ctx.setState({ tally, program, preview });
  }

  function applyXml(body: string): void {
    const x = parseVmixXml(body);
    ctx.setState({
      inputs: x.inputs.map((i) => ({ number: i.number, title: i.title, type: i.type, key: i.key })),
      program: x.program,
      preview: x.preview,
      ...(x.version ? { version: x.version } : {}),
    });
  }

  function onMessage(msg: VmixMessage): void {
    if (msg.kind === 'garbage') {
      ctx.deviceNoise.warn('garbage', { line: msg.line.slice(0, 200) }, 'vMix sent a line that is not a response; ignored');
      return;
    }
    const current = queue.current;
    if (msg.kind === 'data') {
      if (msg.command === 'XML') applyXml(msg.body);
      if (current === msg.command) queue.resolveCurrent(msg);
      return;
    }
    // Subscribed tally changes arrive as `TALLY OK …` at any time, and look
    // exactly like the answer to a TALLY request: apply both, settle if asked.
    if (msg.command === 'TALLY' && msg.ok) applyTally(msg.text);
    if (msg.command === 'VERSION') {
      if (msg.ok) {
        ctx.setState({ version: msg.text });
        greeting?.(msg.text);
        greeting = null;
      }
      return;
    }
    if (current !== msg.command) {
      if (msg.command !== 'TALLY') ctx.logger.debug({ msg }, 'unsolicited vMix response ignored');
      return;
    }
    if (msg.ok) queue.resolveCurrent(msg);
    else queue.rejectCurrent(new DeviceError(`vMix refused ${msg.command}: ${msg.text || 'ER'}`));
  }

  /** `XML` / `TALLY` answered `ER` (vMix "not ready"): an answer, not a failure of the link (vMix TCP API, "Responses": single-line ER replies must be expected). */
  const refused = (e: unknown) => e instanceof DeviceError && e.code === 'DEVICE_ERROR';

  /** vMix greets every connection with `VERSION OK <version>`; only then does it take requests. */
  async function handshake(): Promise<string> {
    const version = await new Promise<string>((resolve) => {
      greeting = resolve;
    });
    await request('SUBSCRIBE', 'SUBSCRIBE TALLY\r\n');
    await request('XML', 'XML\r\n').catch((e: unknown) => {
      if (!refused(e)) throw e;
      ctx.logger.info({ err: errorMessage(e) }, 'vMix has no XML yet; input names come with the next probe');
    });
    await request('TALLY', 'TALLY\r\n').catch((e: unknown) => {
      if (!refused(e)) throw e;
    });
    return `vMix ${version} at ${link.describe()}`;
  }

  const conn = ctx.connect(link, {
    handshake,
    // The XML re-read keeps input names current and is the liveness probe: any answer counts.
    probe: () =>
      request('XML', 'XML\r\n').catch((e: unknown) => {
        if (!refused(e)) throw e;
      }),
    probeIntervalMs: config.poll_interval_ms ?? 10_000,
    probeTimeoutMs: config.request_timeout_ms ?? 3000,
    onDown: (reason) => {
      greeting = null;
      parser.reset();
      queue.failAll(new DeviceError(`vMix connection lost: ${reason}`, 'DEVICE_OFFLINE'));
    },
  });
  link.on('data', (chunk) => {
    for (const msg of parser.push(chunk)) onMessage(msg);
  });

  async function fn(name: string, params: Record<string, string | number>, signal: AbortSignal): Promise<{ reply: string }> {
    const reply = await request('FUNCTION', encodeFunction(name, params), signal);
    return { reply: reply.kind === 'status' ? reply.text : '' };
  }

  const actions: Record<string, ActionDefinition> = {
    program: defineAction({
      description: 'Put an input on program at once (vMix CutDirect; preview is unchanged).',
      params: Type.Object({ input: InputParam }, { additionalProperties: false }),
      run: (p, a) => fn('CutDirect', { Input: p.input }, a.signal),
    }),
    preview: defineAction({
      description: 'Put an input on preview (vMix PreviewInput).',
      params: Type.Object({ input: InputParam }, { additionalProperties: false }),
      run: (p, a) => fn('PreviewInput', { Input: p.input }, a.signal),
    }),
    cut: defineAction({
      description: 'Cut: swap preview and program.',
      params: Type.Object({}, { additionalProperties: false }),
      run: (_p, a) => fn('Cut', {}, a.signal),
    }),
    auto: defineAction({
      description: 'Auto transition (vMix Fade) from preview to program.',
      params: Type.Object(
        {
          duration_ms: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 60_000, description: 'Fade length; vMix default if absent.' }),
          ),
        },
        { additionalProperties: false },
      ),
      run: (p, a) => fn('Fade', p.duration_ms === undefined ? {} : { Duration: p.duration_ms }, a.signal),
    }),
    aux: defineAction({
      description: 'Route an input to an extra output (vMix SetOutput2..4 with Value=Input).',
      params: Type.Object(
        { bus: Type.Integer({ minimum: 2, maximum: 4, description: 'vMix output number 2, 3 or 4.' }), input: InputParam },
        { additionalProperties: false },
      ),
      run: (p, a) => fn(`SetOutput${p.bus}`, { Value: 'Input', Input: p.input }, a.signal),
    }),
  };

  return {
    actions,
    async start() {
      conn.start();
    },
    async stop() {
      queue.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
      await conn.stop();
    },
  };
}
