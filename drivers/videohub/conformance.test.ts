// Videohub conformance (issue 17): the rows of conformance.ts (a) against our
// simulator over a real socket, (b) against the driver inside a real agent,
// with a scripted peer replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerScript,
  SimProbe,
  splitOn,
} from '../../test/support/conformance.js';
import { videohubTable as T, knownDriverGaps } from './conformance.js';
import { VideohubSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('videohub: simulator against the manual', () => {
  const sims: VideohubSimulator[] = [];
  const probes: SimProbe[] = [];
  const open = async (o: ConstructorParameters<typeof VideohubSimulator>[0] = {}) => {
    const sim = new VideohubSimulator({ inputs: 4, outputs: 4, ...o });
    sims.push(sim);
    const probe = await SimProbe.connect(await sim.start());
    probes.push(probe);
    return { sim, probe };
  };
  afterAll(async () => {
    for (const p of probes) p.close();
    for (const s of sims) await s.stop();
  });

  it('dump on connect: preamble first, device, labels, locks, routing, END PRELUDE', async () => {
    const { probe } = await open();
    await probe.expect(T.preamble.reply, 'preamble');
    await probe.expect(
      /VIDEOHUB DEVICE:\nDevice present: true\nModel name: [^\n]+\n(?:[A-Za-z ]+: [^\n]*\n)*\n/,
      'device-present',
    );
    await probe.expect(/INPUT LABELS:\n(?:\d+ [^\n]*\n){4}\n/, 'input-labels');
    await probe.expect(/OUTPUT LABELS:\n(?:\d+ [^\n]*\n){4}\n/, 'output-labels');
    await probe.expect(/VIDEO OUTPUT LOCKS:\n(?:\d+ [OLU]\n){4}\n/, 'locks');
    await probe.expect(/VIDEO OUTPUT ROUTING:\n(?:\d+ \d+\n){4}\n/, 'routing');
    await probe.expect(T['end-prelude'].reply, 'end-prelude');
  });

  it('requests: route ACK + update, NAK, label set (UTF-8), force unlock, status dump, PING', async () => {
    const { probe } = await open();
    await probe.expect(T['end-prelude'].reply);
    await probe.row(T['route-ack']);
    await probe.row(T['route-nak']);
    await probe.row(T['label-set']);
    await probe.row(T['lock-force']);
    await probe.row(T['dump-request']);
    await probe.row(T.ping);
  });

  it('UTF-8 labels are sent as UTF-8', async () => {
    const { probe } = await open({ inputLabels: ['Sala Süd'] });
    await probe.expect('INPUT LABELS:\n0 Sala Süd\n', 'input-labels-utf8');
  });

  it('another client routes: only the changed item is pushed', async () => {
    const { sim, probe } = await open();
    await probe.expect(T['end-prelude'].reply);
    sim.route(0, 3);
    await probe.row(T['routing-update']);
  });

  it('no router attached: the device block alone; attach re-sends every block but the preamble', async () => {
    const { sim, probe } = await open({ devicePresent: 'false' });
    await probe.expect(T.preamble.reply);
    await probe.row(T['device-absent']);
    sim.attach();
    await probe.expect(/VIDEOHUB DEVICE:\nDevice present: true\n/, 'attach-resend: device block');
    await probe.expect(/VIDEO OUTPUT ROUTING:\n(?:\d+ \d+\n){4}\n/, 'attach-resend: routing');
    expect(probe.text.match(/PROTOCOL PREAMBLE:/g)).toHaveLength(1);
    sim.detach('needs_update');
    await probe.row(T['device-needs-update']);
  });
});

// The scripted peer: greets with the rows given, answers PING and status-dump requests.
const dump = (labels = T['input-labels'].reply, device = T['device-present'].reply) => [
  T.preamble.reply,
  device,
  labels,
  T['output-labels'].reply,
  T.locks.reply,
  T.routing.reply,
  T['end-prelude'].reply,
];
function peer(extra: PeerScript['rules'], greet = dump()): PeerScript {
  return {
    framer: splitOn('\n\n'),
    greet,
    rules: [...extra, { when: 'PING:', reply: T.ping.reply }, { when: /^[A-Z ]+:$/, reply: 'NAK\n\n' }],
    fallback: () => 'NAK\n\n',
  };
}
const labels = async (dev: Parameters<DriverCase['run']>[0], key: string) => (await dev.state(key)) as Record<string, string>;
const strip = (s: string) => s.replace(/\n\n$/, '');

const cases: DriverCase[] = [
  {
    id: 'dump-then-online',
    rows: ['preamble', 'device-present', 'input-labels', 'output-labels', 'locks', 'routing', 'end-prelude'],
    peer: peer([]),
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.routes?.value).toEqual({ 1: 1, 2: 2, 3: 3, 4: 4 });
      expect((await labels(dev, 'input_labels'))['2']).toBe('Lectern PC');
    },
  },
  {
    id: 'dump-without-end-prelude',
    rows: ['preamble', 'device-present', 'routing', 'ping'],
    peer: peer([], dump().slice(0, -1)),
    run: async (dev) => {
      await online(dev);
    },
  },
  {
    id: 'route-ack-and-update',
    rows: ['route-ack'],
    peer: peer([{ when: strip(T['route-ack'].send), reply: T['route-ack'].reply }]),
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('route', { input: 3, output: 4, layer: 'video' })).toEqual({
        ok: true,
        result: { output: 4, input: 3, layer: 'video' },
      });
    },
  },
  {
    id: 'route-nak',
    rows: ['route-nak'],
    peer: peer([{ when: /^VIDEO OUTPUT ROUTING:\n3 \d+$/, reply: T['route-nak'].reply }]),
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('route', { input: 2, output: 4, layer: 'video' })).toMatchObject({
        ok: false,
        code: 'DEVICE_ERROR',
      });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'routing-update-from-another-client',
    rows: ['routing-update'],
    peer: peer([]),
    run: async (dev) => {
      await online(dev);
      dev.peer.push(T['routing-update'].reply);
      await dev.until((d) => (d.state.routes?.value as Record<string, number>)?.['1'] === 4, 'output 1 ← input 4');
    },
  },
  {
    id: 'utf8-label-read',
    rows: ['input-labels-utf8'],
    peer: peer([], dump(T['input-labels-utf8'].reply)),
    run: async (dev) => {
      await online(dev);
      expect((await labels(dev, 'input_labels'))['1']).toBe('Sala Süd');
    },
  },
  {
    id: 'utf8-label-set',
    rows: ['label-set'],
    peer: peer([{ when: strip(T['label-set'].send), reply: T['label-set'].reply }]),
    run: async (dev) => {
      await online(dev);
      const out = await dev.action('label.set', { kind: 'output', index: 2, label: 'Überlauf' });
      expect(out).toEqual({ ok: true, result: { kind: 'output', index: 2, label: 'Überlauf' } });
    },
  },
  {
    id: 'device-absent-is-error',
    rows: ['device-absent'],
    peer: peer([], [T.preamble.reply, T['device-absent'].reply]),
    run: async (dev) => {
      await dev.until((d) => d.status.status === 'error' || d.status.status === 'bad_config', 'a refusal status');
    },
  },
  {
    id: 'attach-after-absent',
    rows: ['device-absent', 'attach-resend'],
    peer: peer([], [T.preamble.reply, T['device-absent'].reply]),
    run: async (dev) => {
      await dev.until((d) => d.status.status !== 'connecting' && dev.peer.clientCount > 0, 'first status');
      dev.peer.push(T['attach-resend'].reply);
      const d = await online(dev, 3000);
      expect(d.state.routes?.value).toEqual({ 1: 1, 2: 2, 3: 3, 4: 4 });
    },
  },
];

describeDriverConformance('videohub', T, cases, knownDriverGaps);
