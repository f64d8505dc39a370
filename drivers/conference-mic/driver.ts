import { Type } from '@sinclair/typebox';
import { defineAction, defineDriver } from '../../src/host/contract.js';
import { type Link, type LinkOptions, SerialLink, simulatedSerialPorts, TcpLink, UdpLink } from '../../src/transport/index.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { AgentError } from '../../src/util/errors.js';
import { MicChannels } from '../../src/util/mic-channels.js';
import { ConfideaParser } from './confidea.js';
import { type ConferenceProtocol, type MicParser, type MicUpdate, PROTOCOLS } from './protocol.js';
import { SdcParser } from './sdc8000.js';
import { startConferenceMicSimulator } from './simulator.js';
import { TAIDEN_START_TRACKING, TaidenParser } from './taiden.js';

export const ConferenceMicConfig = Type.Object(
  {
    protocol: Type.Union(
      PROTOCOLS.map((p) => Type.Literal(p)),
      { description: 'taiden: E5 camera positions; sdc8000: Sennheiser SDC 8000 serial output; confidea: Televic UDP JSON.' },
    ),
    transport: Type.Optional(
      Type.Union([Type.Literal('serial'), Type.Literal('tcp'), Type.Literal('udp')], {
        description: 'Default: serial for taiden and sdc8000, udp for confidea. tcp = a serial-to-IP gateway.',
      }),
    ),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Serial port, e.g. /dev/ttyUSB0 (transport serial).' })),
    baud_rate: Type.Optional(
      Type.Integer({ minimum: 300, maximum: 921600, description: 'Default 9600 (taiden) or 19200 (sdc8000).' }),
    ),
    host: Type.Optional(
      Type.String({ minLength: 1, description: 'tcp: gateway address; udp: address the unit sends from (others are ignored).' }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'tcp: gateway port.' })),
    listen_port: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, description: 'udp: local port the unit sends to (Confidea default 8000).' }),
    ),
    sync_timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 600_000,
        description:
          'sdc8000: offline when no valid frame arrived for this long (the unit sends a %S sync every ~5 s); the first frame also marks the unit online. Default 15000; 0 = no liveness.',
      }),
    ),
    tracking_refresh_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3_600_000,
        description:
          'taiden: send "start video track" (E3 E4 00) again this often while connected, so a unit restarted behind a link that stayed up resumes its output. Default 60000; 0 = only on connect.',
      }),
    ),
    chairman: Type.Array(Type.Integer({ minimum: 1 }), {
      default: [],
      description: 'Microphone numbers of chairman seats (Taiden and Confidea ON do not flag the chairman).',
    }),
  },
  { additionalProperties: false },
);

type Config = typeof ConferenceMicConfig.static;

/** SDC 8000 appendix A: a %S sync "at a time interval of approx. 5 seconds"; three missed ones → offline. */
export const SDC_SYNC_TIMEOUT_MS = 15_000;
/** Taiden: how often "start video track" is sent again while connected (a unit restart is no link event). */
export const TAIDEN_TRACKING_REFRESH_MS = 60_000;
/** How often the SDC 8000 liveness is checked (no I/O: a look at when the last valid frame came). */
const SDC_LIVENESS_CHECK_MS = 1000;

function parserFor(p: ConferenceProtocol): MicParser {
  if (p === 'taiden') return new TaidenParser();
  if (p === 'sdc8000') return new SdcParser();
  return new ConfideaParser();
}

function bad(msg: string): never {
  throw new AgentError('INVALID_PARAMS', msg);
}

/** The link for the configured transport; throws INVALID_PARAMS (status bad_config) on missing keys. */
export function linkFor(config: Config, common: LinkOptions): Link {
  const transport = config.transport ?? (config.protocol === 'confidea' ? 'udp' : 'serial');
  if (config.protocol === 'confidea' && transport !== 'udp')
    bad('protocol "confidea" sends UDP datagrams: use transport = "udp"');
  if (transport === 'serial') {
    if (!config.path) bad('transport "serial" needs "path" (e.g. /dev/ttyUSB0)');
    const baudRate = config.baud_rate ?? (config.protocol === 'sdc8000' ? 19200 : 9600);
    // A simulator's binding-mock port when one runs on this path (`room-agent simulate`, tests), else the OS port.
    return new SerialLink({ ...common, path: config.path, baudRate, binding: simulatedSerialPorts.get(config.path) });
  }
  if (transport === 'tcp') {
    if (!config.host || !config.port) bad('transport "tcp" needs "host" and "port" of the serial-to-IP gateway');
    return new TcpLink({ ...common, host: config.host, port: config.port });
  }
  if (!config.host) bad('transport "udp" needs "host" (the address the unit sends from)');
  return new UdpLink({ ...common, host: config.host, port: config.port ?? 8000, localPort: config.listen_port ?? 8000 });
}

export const conferenceMicDriver = defineDriver({
  name: 'conference-mic',
  kind: 'microphone',
  description: 'Delegate microphone systems (Taiden, Sennheiser SDC 8000, Televic Confidea) over RS-232, TCP or UDP.',
  config: ConferenceMicConfig,
  create(config, ctx) {
    const link = linkFor(config, { logger: ctx.logger, clock: ctx.clock });
    const parser = parserFor(config.protocol);
    const channels = new MicChannels(ctx, config.chairman ?? []);
    let badFrames = 0;
    // SDC 8000 liveness: the unit's own sync every ~5 s is its keep-alive (a valid frame of any kind counts).
    const syncTimeoutMs = config.protocol === 'sdc8000' ? (config.sync_timeout_ms ?? SDC_SYNC_TIMEOUT_MS) : 0;
    let lastFrameAt = 0;
    let firstFrame: (() => void) | null = null;
    const baud = config.baud_rate ?? 19200;
    const silentWhy = (ms: number) =>
      `${ms} ms (the unit sends a %S sync every ~5 s): check the cable or gateway, the line speed (${baud} here, the unit's is 19200 8N1) and that its camera-control output is enabled`;

    // Taiden: "start video track" on connect and every tracking_refresh_ms (the unit does not answer it).
    const refreshMs = config.protocol === 'taiden' ? (config.tracking_refresh_ms ?? TAIDEN_TRACKING_REFRESH_MS) : 0;
    let refreshTimer: TimerHandle | null = null;
    const stopRefresh = () => {
      ctx.clock.clearTimeout(refreshTimer);
      refreshTimer = null;
    };
    const startTracking = () => {
      stopRefresh();
      link.write(TAIDEN_START_TRACKING);
      if (refreshMs > 0) refreshTimer = ctx.clock.setTimeout(startTracking, refreshMs);
    };

    const apply = (u: MicUpdate) => {
      if (u.kind !== 'bad_frame') {
        lastFrameAt = ctx.clock.now();
        firstFrame?.();
      }
      switch (u.kind) {
        case 'mic':
          channels.set(u.channel, u.on, u.chairman ?? false);
          break;
        case 'position':
          // Taiden names the one microphone to show; the others are no longer shown.
          channels.sync([u.channel], 'camera position');
          break;
        case 'all_off':
          channels.allOff(u.why);
          break;
        case 'sync':
          channels.sync(u.active, 'sync');
          break;
        case 'bad_frame':
          badFrames++;
          ctx.deviceNoise.warn('bad_frame', { reason: u.reason, raw: u.raw }, 'frame dropped');
          ctx.setState({ bad_frames: badFrames });
          break;
        case 'info':
          ctx.logger.debug({ info: u.text }, 'unit message');
          break;
      }
    };

    link.on('data', (chunk) => {
      for (const u of parser.push(chunk)) apply(u);
    });
    // These units only talk (camera-control outputs): there is nothing to ask them, so the
    // handshake is the link itself and there is no probe. Offline is seen when the TCP gateway
    // closes or the serial adapter goes away; UDP cannot tell (documented in docs/drivers).
    const conn = ctx.connect(link, {
      handshake: async ({ info, signal }) => {
        parser.reset();
        // Taiden: ask for the tracking output (it is not answered; see TAIDEN_START_TRACKING).
        if (config.protocol === 'taiden') startTracking();
        // With listen_port = 0 the OS picks the port; show it so the unit can be pointed at it.
        ctx.setState(link instanceof UdpLink ? { link: info, listen_port: link.localPort } : { link: info });
        // SDC 8000: online once the unit is heard (its next sync at the latest), not when a gateway accepts.
        if (syncTimeoutMs > 0) await firstValidFrame(signal);
        return `${config.protocol} on ${info}`;
      },
      ...(syncTimeoutMs > 0
        ? {
            handshakeTimeoutMs: syncTimeoutMs + SDC_LIVENESS_CHECK_MS,
            probeIntervalMs: SDC_LIVENESS_CHECK_MS,
            probeTimeoutMs: syncTimeoutMs,
            probe: async () => {
              const quiet = ctx.clock.now() - lastFrameAt;
              if (quiet >= syncTimeoutMs) throw new Error(`no SDC 8000 frame for ${silentWhy(syncTimeoutMs)}`);
            },
          }
        : {}),
      onDown: () => {
        stopRefresh();
        parser.reset();
        channels.allOff('link_lost');
      },
    });

    function firstValidFrame(signal: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          ctx.clock.clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          firstFrame = null;
          if (err) reject(err);
          else resolve();
        };
        const onAbort = () => done(new Error('connection ended'));
        const timer = ctx.clock.setTimeout(
          () => done(new Error(`no SDC 8000 frame within ${silentWhy(syncTimeoutMs)}`)),
          syncTimeoutMs,
        );
        signal.addEventListener('abort', onAbort, { once: true });
        firstFrame = () => done();
      });
    }

    return {
      async start() {
        conn.start();
      },
      async stop() {
        await conn.stop();
        stopRefresh();
      },
      actions: {
        clear: defineAction({
          description: 'Forget which microphones are on (as if the unit sent "all off").',
          params: Type.Object({}, { additionalProperties: false }),
          allowOffline: true,
          async run() {
            channels.allOff('cleared by operator');
            return { active: channels.active() };
          },
        }),
      },
    };
  },
  async simulate(config, ctx) {
    // The simulator speaks the same bytes; serial protocols are simulated over TCP
    // so the demo needs no serial ports.
    const sim = await startConferenceMicSimulator({
      protocol: config.protocol,
      transport: config.protocol === 'confidea' ? 'udp' : 'tcp',
      host: ctx.host,
      port: ctx.port,
      chairman: config.chairman,
    });
    return { endpoint: sim.endpoint, stop: () => sim.stop() };
  },
});
