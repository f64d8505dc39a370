// vMix conformance (issue 17): the rows of conformance.ts (a) against our
// simulator over a real socket, (b) against the driver inside a real agent,
// with a scripted peer replaying the rows.
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
import { knownDriverGaps, vmixTable as T } from './conformance.js';
import { VmixSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('vmix: simulator against the manual', () => {
  let sim: VmixSimulator;
  let probe: SimProbe;
  afterAll(async () => {
    probe?.close();
    await sim?.stop();
  });

  it('greets, answers FUNCTION OK/ER, TALLY, SUBSCRIBE (then pushes), XML with a byte length, XML ER', async () => {
    sim = new VmixSimulator();
    probe = await SimProbe.connect(await sim.start());
    await probe.expect(/^VERSION OK [\d.]+\r\n/, 'version-greeting');
    await probe.row(T['function-ok']);
    await probe.row(T['function-er'], /^FUNCTION ER [^\r\n]+\r\n/);
    await probe.row(T.tally, /^TALLY OK [012]+\r\n/);
    await probe.row(T.subscribe);
    sim.setProgram(3);
    await probe.expect(/^TALLY OK [012]+\r\n/, 'tally-push');
    probe.send(T.xml.send);
    const head = await probe.expect(/^XML (\d+)\r\n/, 'xml');
    const n = Number(/\d+/.exec(head)?.[0]);
    await probe.expect(/<\/vmix>\r\n/, 'xml body');
    const body = Buffer.from(probe.text.slice(probe.text.indexOf(head) + head.length), 'utf8');
    expect(body.length).toBe(n);
    sim.xmlError = 'Not ready';
    await probe.row(T['xml-er']);
  });
});

// The scripted peer: vMix with two inputs, greeting first.
function peer(extra: PeerScript['rules'], o: Partial<PeerScript> = {}): PeerScript {
  return {
    framer: splitOn('\r\n'),
    greet: [T['version-greeting'].reply],
    rules: [
      ...extra,
      answerRow(T.subscribe),
      answerRow(T.tally),
      answerRow(T.xml),
      { when: /^FUNCTION /, reply: T['function-ok'].reply },
      { when: 'PING', reply: 'PING OK PONG\r\n' },
    ],
    fallback: (f) => `${f.split(' ')[0]} ER Unknown command\r\n`,
    ...o,
  };
}

const cases: DriverCase[] = [
  {
    id: 'greeting-subscribe-xml-online',
    rows: ['version-greeting', 'subscribe', 'xml', 'tally'],
    peer: peer([]),
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.program?.value).toBe(1);
      expect(d.state.preview?.value).toBe(2);
    },
  },
  {
    id: 'waits-for-greeting',
    rows: ['version-greeting'],
    peer: peer([], { greetDelayMs: 300 }),
    run: async (dev) => {
      await online(dev);
      expect(dev.peer.beforeGreeting).toEqual([]);
    },
  },
  {
    id: 'function-ok',
    rows: ['function-ok'],
    peer: peer([]),
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('cut')).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain('FUNCTION Cut');
    },
  },
  {
    id: 'function-er',
    rows: ['function-er'],
    peer: peer([{ when: /^FUNCTION PreviewInput /, reply: T['function-er'].reply }]),
    run: async (dev) => {
      await online(dev);
      const out = await dev.action('preview', { input: 2 });
      expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect(out.ok ? '' : out.message).toContain('Input not found');
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'tally-push',
    rows: ['tally-push'],
    peer: peer([]),
    run: async (dev) => {
      await online(dev);
      dev.peer.push(T['tally-push'].reply);
      await dev.until((d) => d.state.program?.value === 2, 'program 2 from the pushed tally');
    },
  },
  {
    id: 'xml-er-to-keepalive',
    rows: ['xml-er'],
    // The first XML (during connect) is answered; every later one gets ER.
    peer: peer([{ when: 'XML', reply: T.xml.reply, once: true }, answerRow(T['xml-er'])]),
    config: { poll_interval_ms: 1000, request_timeout_ms: 500 },
    run: async (dev) => {
      await online(dev);
      await dev.until(() => dev.peer.received.filter((f) => f === 'XML').length >= 3, 'two keep-alive XML ER replies', 10_000);
      const d = await dev.device();
      expect(d.status.status).toBe('online');
      expect(dev.peer.connections).toBe(1);
      expect(await dev.action('cut')).toMatchObject({ ok: true });
    },
  },
];

describeDriverConformance('vmix', T, cases, knownDriverGaps);
