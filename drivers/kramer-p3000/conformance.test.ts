// Kramer Protocol 3000 conformance (issue 17): the rows of conformance.ts
// (a) against our simulator over a real socket, (b) against the driver inside
// a real agent, with a scripted peer replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  answerRow,
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerScript,
  SimProbe,
  splitOn,
} from '../../test/support/conformance.js';
import { kramerTable as T, knownDriverGaps } from './conformance.js';
import { P3kSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('kramer-p3000: simulator against the manual', () => {
  const sims: P3kSimulator[] = [];
  const probes: SimProbe[] = [];
  const open = async (firmware: 'legacy' | 'current') => {
    const sim = new P3kSimulator({ inputs: 4, outputs: 4, model: 'VS-44DT', firmware });
    sims.push(sim);
    const probe = await SimProbe.connect(await sim.start());
    probes.push(probe);
    return { sim, probe };
  };
  afterAll(async () => {
    for (const p of probes) p.close();
    for (const s of sims) await s.stop();
  });

  it('legacy firmware: handshake, OK-terminated VID replies, ROUTE without OK, queries, ERRnnn in place of OK', async () => {
    const { probe } = await open('legacy');
    await probe.row(T['handshake-ok']);
    await probe.row(T['vid-set-ok']);
    await probe.row(T['vid-query']);
    await probe.row(T['route-set-bare']);
    await probe.row(T['route-query']);
    await probe.row(T['err-legacy']);
  });

  it('current firmware: set replies echo without OK, errors are "CMD ERR nnn" / "ERR nnn"', async () => {
    const { probe } = await open('current');
    await probe.row(T['handshake-ok']);
    await probe.row(T['vid-set-bare']);
    await probe.row(T['route-set-bare']);
    await probe.row(T['route-query']);
    await probe.row(T['err-command']);
    await probe.row(T['err-general']);
  });

  it('device-initiated: start message and switch actions reach other clients', async () => {
    const { sim, probe } = await open('current');
    await probe.row(T['handshake-ok']);
    sim.powerOn();
    await probe.expect(/Kramer Electronics LTD\., VS-44DT Version [\d.]+\r\n/, T['start-message'].id);
    sim.frontPanelRoute('video', 4, 1);
    await probe.row(T['switch-action']);
  });
});

// The scripted peer: a 4x4 matrix answering the handshake, #INFO-IO? and every
// route query with input 1, plus the case's own rows.
function peer(extra: PeerScript['rules'], handshake = T['handshake-ok'], greet: string[] = []): PeerScript {
  return {
    framer: splitOn('\r'),
    greet,
    rules: [
      ...extra,
      answerRow(handshake),
      { when: '#INFO-IO?', reply: '~01@INFO-IO IN 4,OUT 4\r\n' },
      { when: /^#VID\? (\d+)$/, reply: (m) => `~01@VID 1>${m[1]}\r\n` },
      { when: /^#AUD\? (\d+)$/, reply: (m) => `~01@AUD 1>${m[1]}\r\n` },
      { when: /^#ROUTE\? (\d+),(\d+)$/, reply: (m) => `~01@ROUTE ${m[1]},${m[2]},1\r\n` },
    ],
    fallback: () => T['err-general'].reply,
  };
}
const config = { inputs: 4, outputs: 4, request_timeout_ms: 300, keepalive_ms: 60_000 };
const routesOf = async (dev: Parameters<DriverCase['run']>[0]) => (await dev.state('routes')) as Record<string, number | null>;

const cases: DriverCase[] = [
  ...(['handshake-ok', 'handshake-ok-lower', 'handshake-legacy'] as const).map(
    (row): DriverCase => ({
      id: `online-after-${row}`,
      rows: [row],
      peer: peer([], T[row]),
      config,
      run: async (dev) => {
        await online(dev);
      },
    }),
  ),
  {
    id: 'vid-set-with-ok',
    rows: ['vid-set-ok'],
    peer: peer([answerRow(T['vid-set-ok'])]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('route', { input: 2, output: 3, layer: 'video' })).toMatchObject({ ok: true });
      expect((await routesOf(dev))['3']).toBe(2);
    },
  },
  {
    id: 'vid-set-without-ok',
    rows: ['vid-set-bare'],
    peer: peer([answerRow(T['vid-set-bare'])]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('route', { input: 2, output: 3, layer: 'video' })).toMatchObject({ ok: true });
      expect((await routesOf(dev))['3']).toBe(2);
    },
  },
  {
    id: 'route-set-without-ok',
    rows: ['route-set-bare'],
    peer: peer([answerRow(T['route-set-bare']), { when: '#ROUTE 2,3,2', reply: '~01@ROUTE 2,3,2\r\n' }]),
    config: { ...config, route_command: 'ROUTE' },
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('route', { input: 2, output: 3, layer: 'av' })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain('#ROUTE 2,3,2');
    },
  },
  ...(['err-command', 'err-legacy'] as const).map(
    (row): DriverCase => ({
      id: `refused-${row}`,
      rows: [row],
      // The matrix refuses any route to output 3 with the row's error form.
      peer: peer([{ when: /^#VID \d+>3$/, reply: T[row].reply }]),
      config,
      run: async (dev) => {
        await online(dev);
        const out = await dev.action('route', { input: 4, output: 3, layer: 'video' });
        expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
        expect((await dev.device()).status.status).toBe('online');
      },
    }),
  ),
  {
    id: 'front-panel-switch',
    rows: ['switch-action'],
    peer: peer([]),
    config,
    run: async (dev) => {
      await online(dev);
      await dev.until(() => dev.peer.clientCount > 0, 'connected');
      dev.peer.push(T['switch-action'].reply);
      await dev.until((d) => (d.state.routes?.value as Record<string, number>)?.['1'] === 4, 'route 1 ← 4 from the device line');
    },
  },
  {
    id: 'start-message-in-session',
    rows: ['start-message'],
    peer: peer([]),
    config,
    run: async (dev) => {
      await online(dev);
      const before = dev.peer.received.filter((f) => f === '#').length;
      dev.peer.push(T['start-message'].reply);
      // The unit restarted: the driver reads everything again (handshake first) and stays online.
      await dev.until(
        () => dev.peer.received.filter((f) => f === '#').length > before,
        'a new handshake after the start message',
      );
      await online(dev);
    },
  },
];

describeDriverConformance('kramer-p3000', T, cases, knownDriverGaps);
