// Q-SYS QRC conformance (issue 17): the rows of conformance.ts (a) against our
// simulator over a real socket, (b) against the driver inside a real agent,
// with a scripted Core replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTable,
  type ConformanceRow,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerRule,
  type PeerScript,
  SimProbe,
  splitOn,
} from '../../test/support/conformance.js';
import { knownDriverGaps, qsysTable as T } from './conformance.js';
import { QrcSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

const json = (row: ConformanceRow) => JSON.parse(row.reply) as Record<string, unknown>;
/** The shape a simulator reply must have: the row's keys, with error codes and methods exact. */
function shape(row: ConformanceRow): Record<string, unknown> {
  const r = json(row);
  if (r.error) return { jsonrpc: '2.0', error: { code: (r.error as { code: number }).code } };
  if (r.method) return { jsonrpc: '2.0', method: r.method };
  return { jsonrpc: '2.0', id: r.id };
}

describe('qsys: simulator against the manual', () => {
  let sim: QrcSimulator;
  let probe: SimProbe;
  afterAll(async () => {
    probe?.close();
    await sim?.stop();
  });
  const next = async (pred: (m: Record<string, unknown>) => boolean, what: string) => {
    for (;;) {
      const text = await probe.expect(/[^\0]*\0/, what);
      const m = JSON.parse(text.slice(0, -1)) as Record<string, unknown>;
      if (pred(m)) return m;
    }
  };
  const row = async (r: ConformanceRow) => {
    if (r.send !== undefined) probe.send(`${r.send}\0`);
    const want = shape(r);
    const got = await next((m) => (want.method ? m.method === want.method : m.id === want.id || 'error' in want), r.id);
    expect(got, r.id).toMatchObject(want);
    return got;
  };

  it('EngineStatus on connect, StatusGet, NoOp, Control.Get/Set, AddControl, AutoPoll pushes, error codes', async () => {
    sim = new QrcSimulator({ named: { MainGain: { value: -12, kind: 'gain' } } });
    probe = await SimProbe.connect(await sim.start());
    expect((await row(T['engine-status'])).params).toMatchObject({ State: 'Active' });
    expect((await row(T['status-get'])).result).toMatchObject({ State: 'Active', Platform: expect.any(String) });
    await row(T.noop);
    expect((await row(T['control-get'])).result).toMatchObject([{ Name: 'MainGain', Value: -12 }]);
    await row(T['control-set']);
    await row(T['add-control']);
    await row(T['error-unknown-control']);
    await row(T['error-unknown-component']);
    await row(T['error-method-not-found']);
    await row(T['error-parse']);
    probe.send(
      `${JSON.stringify({ jsonrpc: '2.0', id: 20, method: 'ChangeGroup.AutoPoll', params: { Id: 'g1', Rate: 0.1 } })}\0`,
    );
    sim.setControl('MainGain', -6);
    const push = await next((m) => m.method === 'ChangeGroup.Poll', 'autopoll-push');
    expect(push.params).toMatchObject({ Id: 'g1', Changes: [{ Name: 'MainGain', Value: -6 }] });
    sim.setEngineState('Standby');
    expect((await row(T['engine-standby'])).params).toMatchObject({ State: 'Standby' });
  });

  it('logon required before anything else when access control is on', async () => {
    const locked = new QrcSimulator({ user: 'u', password: 'p' });
    const p = await SimProbe.connect(await locked.start());
    p.send(`${T['error-logon-required'].send}\0`);
    await p.expect(/"error":\{"code":10/, 'error-logon-required');
    p.close();
    await locked.stop();
  });
});

// The scripted Core: answers every method by name, copying the request id.
const idOf = (frame: string) => JSON.parse(frame).id as number;
function answer(
  method: string | RegExp,
  result: unknown,
  o: { once?: boolean; error?: { code: number; message: string } } = {},
): PeerRule {
  return {
    when: new RegExp(`"method":"${typeof method === 'string' ? method.replace('.', '\\.') : method.source}"`),
    once: o.once,
    reply: (m) => `${JSON.stringify({ jsonrpc: '2.0', id: idOf(m.input), ...(o.error ? { error: o.error } : { result }) })}\0`,
  };
}
const rowError = (row: ConformanceRow) => json(row).error as { code: number; message: string };
function peer(extra: PeerRule[] = []): PeerScript {
  return {
    framer: splitOn('\0'),
    greet: [`${T['engine-status'].reply}\0`],
    rules: [
      ...extra,
      answer('StatusGet', (json(T['status-get']) as { result: unknown }).result),
      answer('NoOp', true),
      answer('Control.Get', (json(T['control-get']) as { result: unknown }).result),
      answer('Control.Set', true),
      answer(/ChangeGroup\.[A-Za-z]+/, true),
      answer('Logon', true),
    ],
    fallback: (f) =>
      `${JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(f).id ?? null, error: { code: -32601, message: 'Method not found' } })}\0`,
  };
}
const config = { controls: { main: { control: 'MainGain', type: 'level' } }, request_timeout_ms: 500 };

const cases: DriverCase[] = [
  {
    id: 'engine-status-then-online',
    rows: ['engine-status', 'status-get', 'add-control', 'control-get'],
    peer: peer(),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.main?.value).toBe(-12);
    },
  },
  {
    id: 'autopoll-push-updates-state',
    rows: ['autopoll-push'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      dev.peer.push(`${T['autopoll-push'].reply}\0`);
      await dev.until((d) => d.state.main?.value === -6, 'main = -6 dB from the push');
    },
  },
  {
    id: 'engine-standby-is-offline',
    rows: ['engine-standby'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      dev.peer.push(`${T['engine-standby'].reply}\0`);
      await dev.until((d) => d.status.status === 'offline', 'offline in Standby');
    },
  },
  {
    id: 'set-level',
    rows: ['control-set'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      expect(dev.peer.received.some((f) => /"method":"Control\.Set".*"Value":-10/.test(f))).toBe(true);
    },
  },
  {
    id: 'set-refused-with-code-8',
    rows: ['error-unknown-control'],
    peer: peer([answer('Control.Set', null, { error: rowError(T['error-unknown-control']) })]),
    config,
    run: async (dev) => {
      await online(dev);
      const out = await dev.action('level', { control: 'main', db: -10 });
      expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect(out.ok ? '' : out.message).toContain('unknown control');
    },
  },
  {
    id: 'missing-control-is-bad-config',
    rows: ['error-unknown-control'],
    peer: peer([answer('ChangeGroup.AddControl', null, { error: rowError(T['error-unknown-control']) })]),
    config,
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'bad_config', 'bad_config', 10_000);
      expect(d.status.message).toContain('Unknown control');
    },
  },
  {
    id: 'missing-control-does-not-hammer',
    rows: ['error-unknown-control'],
    peer: peer([answer('ChangeGroup.AddControl', null, { error: rowError(T['error-unknown-control']) })]),
    config,
    run: async (dev) => {
      await dev.until(() => dev.peer.connections >= 1 && dev.peer.received.some((f) => f.includes('AddControl')), 'the refusal');
      // Issue 17 §2: a config error retries at the maximum interval, not 14 times in 7.5 s.
      await new Promise((r) => setTimeout(r, 2500));
      expect(dev.peer.connections).toBeLessThanOrEqual(2);
    },
  },
  {
    id: 'logon-refused-is-auth-failure',
    rows: ['error-logon-required'],
    peer: peer([answer('Logon', null, { error: rowError(T['error-logon-required']) })]),
    config: { ...config, user: 'room-agent', password: 'qsys-secret-pin' },
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'auth_failure', 'auth_failure');
      expect(JSON.stringify(d.status)).not.toContain('qsys-secret-pin');
    },
  },
];

describeDriverConformance('qsys', T, cases, knownDriverGaps);
