// Extron SIS conformance (issue 17): the rows of conformance.ts (a) against
// our simulator over Telnet on loopback, (b) against the driver inside a real
// agent, with a scripted peer replaying the rows.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SerialLink } from '../../src/transport/serial.js';
import {
  answerRow,
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerScript,
  SimProbe,
} from '../../test/support/conformance.js';
import { extronTable as T, knownDriverGaps } from './conformance.js';
import { SisSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

const BANNER = /\(c\) Copyright \d{4}, Extron Electronics, [^,\r\n]+, V[\d.]+, [\d-]+\r\n/;

describe('extron-sis: simulator against the manual', () => {
  const sims: SisSimulator[] = [];
  const probes: SimProbe[] = [];
  const open = async (o: ConstructorParameters<typeof SisSimulator>[0] = {}) => {
    const sim = new SisSimulator({ inputs: 8, outputs: 8, ...o });
    sims.push(sim);
    const probe = await SimProbe.connect(await sim.start(), 'latin1');
    probes.push(probe);
    await probe.expect(BANNER, 'banner');
    return { sim, probe };
  };
  afterAll(async () => {
    for (const p of probes) p.close();
    for (const s of sims) await s.stop();
  });

  it('verbose 3, ties in every layer, tagged reads, breakaway E14, all outputs, quick tie, presets', async () => {
    const { probe } = await open();
    await probe.row(T['verbose-3']);
    await probe.row(T['tie-av']);
    await probe.row(T['tie-video']);
    await probe.row(T['tie-audio']);
    await probe.row(T['read-tie-tagged']);
    await probe.row(T['read-av-breakaway']);
    await probe.row(T['all-outputs']);
    await probe.row(T['quick-tie']);
    await probe.row(T['preset-save']);
    await probe.row(T['preset-recall']);
    await probe.row(T.info, /V\d+X\d+ A\d+X\d+\r\n/);
    await probe.row(T.firmware, /\d+\.\d+\r\n/);
    await probe.row(T['part-number'], /60-\d+-\d+\r\n/);
  });

  it('E-codes: invalid input, command, preset, output', async () => {
    const { probe } = await open();
    await probe.row(T['e01-invalid-input']);
    await probe.row(T['e10-invalid-command']);
    await probe.row(T['e11-invalid-preset']);
    await probe.row(T['e12-invalid-output']);
  });

  it('verbose 0 (the Telnet default): a read answers the bare number', async () => {
    const { probe } = await open();
    await probe.row(T['read-tie-plain'], /^\d{2}\r\n/m);
  });

  it('RS-232: at power-on the copyright line alone, without the LAN-only date line', async () => {
    const sim = new SisSimulator({ inputs: 8, outputs: 8 });
    sims.push(sim);
    const path = `/dev/extron-conformance-${process.pid}`;
    const link = new SerialLink({ path, baudRate: 9600, binding: sim.serialBinding(path) });
    let got = '';
    link.on('data', (d) => {
      got += d.toString('latin1');
    });
    await link.connectOnce();
    try {
      sim.powerCycle();
      await vi.waitFor(() => expect(got).toContain('\r\n'));
      await new Promise((r) => setTimeout(r, 50)); // a date line, were one sent, would follow at once
      expect(got).toBe(T['banner-serial'].reply);
    } finally {
      await link.disconnect('test over');
    }
  });

  it('three-digit models pad to three digits', async () => {
    const { probe } = await open({ pad: 3 });
    await probe.row(T['tie-av-three-digits']);
  });

  it('password: prompt after the banner, Login Administrator', async () => {
    const { probe } = await open({ password: 'extron-pw' });
    await probe.expect(T['password-prompt'].reply);
    await probe.row(T['login-administrator']);
  });

  it('front panel: Qik and Rprnn reach verbose sessions', async () => {
    const { sim, probe } = await open();
    await probe.row(T['verbose-3']);
    await probe.row(T['preset-save']);
    sim.frontPanelTie(2, 3, 'av');
    await probe.expect(T.qik.reply, 'qik');
    sim.frontPanelPresetRecall(5);
    await probe.expect(T['rpr-unsolicited'].reply, 'rpr-unsolicited');
  });
});

// SIS commands have no terminator: the peer cuts the stream at each complete command.
const COMMAND =
  /^(?:\xff[\xfb-\xfe][\s\S]|\x1b[0-3]CV|\x1b\+Q[^\r]*\r|\d{1,3}\*\d{0,3}[!%&$]|\d{1,3}[!%&$.,]|[IQNiqn]|[^\r\n\x1b\xff\d]+\r\n?)/;
const extronFramer: PeerScript['framer'] = (buffer) => {
  const frames: string[] = [];
  let rest = buffer;
  for (;;) {
    rest = rest.replace(/^[\r\n ]+/, '');
    const m = COMMAND.exec(rest);
    if (!m) break;
    frames.push(m[0].replace(/\r\n?$/, ''));
    rest = rest.slice(m[0].length);
  }
  return { frames, rest };
};

/** A 4x4 DXP answering verbose, size, firmware and every tie read (input 1, tagged). */
function peer(extra: PeerScript['rules'], greet: string[] = [T.banner.reply]): PeerScript {
  return {
    framer: extronFramer,
    encoding: 'latin1',
    greet,
    rules: [
      ...extra,
      answerRow(T['verbose-3']),
      answerRow(T.info),
      answerRow(T.firmware),
      answerRow(T['part-number']),
      { when: /^(\d+)%$/, reply: (m) => `Out${m[1].padStart(2, '0')} In01 Vid\r\n` },
      { when: /^(\d+)\$$/, reply: (m) => `Out${m[1].padStart(2, '0')} In01 Aud\r\n` },
      { when: /^\xff/, reply: [] },
    ],
    fallback: () => T['e10-invalid-command'].reply,
  };
}
const config = { inputs: 4, outputs: 4, request_timeout_ms: 400 };
const reads = (dev: Parameters<DriverCase['run']>[0]) => dev.peer.received.filter((f) => /^\d+%$/.test(f)).length;
const routesOf = async (dev: Parameters<DriverCase['run']>[0]) => (await dev.state('routes')) as Record<string, number | null>;

const cases: DriverCase[] = [
  {
    id: 'banner-verbose-reads-online',
    rows: ['banner', 'verbose-3', 'info', 'firmware', 'read-tie-tagged'],
    peer: peer([]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(dev.peer.received).toContain('\x1b3CV');
      expect(await routesOf(dev)).toMatchObject({ 1: 1, 2: 1, 3: 1, 4: 1 });
    },
  },
  {
    id: 'password-login',
    rows: ['password-prompt', 'login-administrator'],
    peer: peer([answerRow(T['login-administrator'])], [T.banner.reply, T['password-prompt'].reply]),
    config: { ...config, password: 'extron-pw' },
    run: async (dev) => {
      await online(dev);
    },
  },
  {
    id: 'wrong-password-is-auth-failure',
    rows: ['password-prompt'],
    peer: peer(
      [{ when: /^[^\d\x1b]/, reply: T['password-prompt'].reply, once: true }],
      [T.banner.reply, T['password-prompt'].reply],
    ),
    config: { ...config, password: 'not-the-password' },
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'auth_failure', 'auth_failure');
      expect(JSON.stringify(d.status)).not.toContain('not-the-password');
    },
  },
  ...(
    [
      ['tie-av', { input: 1, output: 3, layer: 'av' }],
      ['tie-video', { input: 7, output: 4, layer: 'video' }],
      ['tie-video-rgb', { input: 2, output: 4, layer: 'video' }],
      ['tie-audio', { input: 3, output: 2, layer: 'audio' }],
      ['tie-av-three-digits', { input: 1, output: 3, layer: 'av' }],
    ] as const
  ).map(
    ([row, params]): DriverCase => ({
      id: `route-${row}`,
      rows: [row],
      peer: peer([answerRow(T[row])]),
      config: { ...config, inputs: 8 },
      run: async (dev) => {
        await online(dev);
        expect(await dev.action('route', { ...params })).toEqual({ ok: true, result: { ...params } });
      },
    }),
  ),
  ...(['e01-invalid-input', 'e22-busy'] as const).map(
    (row): DriverCase => ({
      id: `refused-${row}`,
      rows: [row],
      peer: peer([{ when: /^\d+\*3!$/, reply: T[row].reply }]),
      config,
      run: async (dev) => {
        await online(dev);
        expect(await dev.action('route', { input: 2, output: 3, layer: 'av' })).toMatchObject({
          ok: false,
          code: 'DEVICE_ERROR',
        });
        expect((await dev.device()).status.status).toBe('online');
      },
    }),
  ),
  {
    id: 'preset-recall-then-reread',
    rows: ['preset-recall'],
    peer: peer([answerRow(T['preset-recall'])]),
    config,
    run: async (dev) => {
      await online(dev);
      const before = reads(dev);
      expect(await dev.action('preset.recall', { preset: 5 })).toMatchObject({ ok: true });
      expect(reads(dev)).toBeGreaterThan(before);
    },
  },
  ...(['qik', 'rpr-unsolicited'] as const).map(
    (row): DriverCase => ({
      id: `unsolicited-${row}-rereads-ties`,
      rows: [row],
      peer: peer([]),
      config,
      run: async (dev) => {
        await online(dev);
        const before = reads(dev);
        dev.peer.push(T[row].reply);
        await dev.until(() => reads(dev) >= before + 4, 'every video tie read again');
      },
    }),
  ),
  {
    id: 'banner-mid-session-sets-verbose-again',
    rows: ['banner'],
    peer: peer([]),
    config,
    run: async (dev) => {
      await online(dev);
      const before = dev.peer.received.filter((f) => f === '\x1b3CV').length;
      dev.peer.push(T.banner.reply);
      await dev.until(() => dev.peer.received.filter((f) => f === '\x1b3CV').length > before, 'Esc 3CV again');
      await online(dev);
    },
  },
];

describeDriverConformance('extron-sis', T, cases, knownDriverGaps);
