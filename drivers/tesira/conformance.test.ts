// Tesira TTP conformance (issue 17): the rows of conformance.ts (a) against
// our simulator over Telnet on loopback, (b) against the driver inside a real
// agent, with a scripted Tesira replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerRule,
  type PeerScript,
  SimProbe,
} from '../../test/support/conformance.js';
import { knownDriverGaps, tesiraTable as T } from './conformance.js';
import { TesiraSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('tesira: simulator against the manual', () => {
  let sim: TesiraSimulator;
  let probe: SimProbe;
  afterAll(async () => {
    probe?.close();
    await sim?.stop();
  });

  it('negotiation first, banner only after every option was refused, then TTP', async () => {
    sim = new TesiraSimulator();
    probe = await SimProbe.connect(await sim.start(), 'latin1');
    await probe.expect(T.negotiation.reply, 'negotiation');
    // Text before the refusal is not a session yet.
    probe.send('Level1 get level 1\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(probe.text).not.toContain('+OK');
    await probe.row(T.refusal);
    await probe.row(T['session-verbose']);
    await probe.row(T.set);
    await probe.row(T['get-verbose']);
    await probe.row(T.toggle);
    await probe.row(T.subscribe, /! "publishToken":"MyLabel" "value":-?\d+\.\d{6}\r\n\+OK\r\n/);
    sim.setValue('Level1', 1, -98.1);
    await probe.row(T.publish);
    await probe.row(T['err-address']);
    await probe.row(T['err-verb'], /-ERR Parse error at \d+: verb was not one of the commands supported by Services\r\n/);
    await probe.row(T['err-params'], /-ERR Parse error at \d+: not enough parameters supplied\r\n/);
    probe.send('SESSION set verbose false\n');
    await probe.expect('+OK\r\n');
    await probe.row(T['get-terse'], /\+OK -?\d+\.\d{6}\r\n/);
  });
});

// The scripted Tesira: negotiation first, the banner after the refusal, then +OK to sets and subscriptions.
const IAC_FRAME = /^\xff[\xfb-\xfe][\s\S]/;
const tesiraFramer: PeerScript['framer'] = (buffer) => {
  const frames: string[] = [];
  let rest = buffer;
  for (;;) {
    const iac = IAC_FRAME.exec(rest);
    if (iac) {
      frames.push(iac[0]);
      rest = rest.slice(3);
      continue;
    }
    const nl = rest.indexOf('\n');
    if (nl < 0 || rest.startsWith('\xff')) break;
    const line = rest.slice(0, nl).replace(/\r$/, '');
    if (line) frames.push(line);
    rest = rest.slice(nl + 1);
  }
  return { frames, rest };
};
const LAST_REFUSAL = '\xff\xfc\x1f';
function peer(extra: PeerRule[] = [], o: { banner?: boolean } = {}): PeerScript {
  return {
    framer: tesiraFramer,
    encoding: 'latin1',
    greet: [T.negotiation.reply],
    rules: [
      ...extra,
      { when: LAST_REFUSAL, reply: o.banner === false ? [] : T.banner.reply },
      { when: /^\xff/, reply: [] },
      { when: /^SESSION set verbose/, reply: T['session-verbose'].reply },
      {
        when: /^(\S+) subscribe (level|mute) (\d+) (\S+)/,
        reply: (m) => `! "publishToken":"${m[4]}" "value":${m[2] === 'level' ? '-10.000000' : 'false'}\r\n+OK\r\n`,
      },
      { when: /^\S+ (set|toggle) /, reply: T.set.reply },
      { when: /^\S+ get level /, reply: T['get-verbose'].reply },
      { when: /^DEVICE recallPreset /, reply: T['recall-preset'].reply },
    ],
    fallback: () => T['err-verb'].reply,
  };
}
const config = {
  controls: { main: { instance: 'Level1', type: 'level', channel: 1 } },
  request_timeout_ms: 300,
  banner_timeout_ms: 1000,
};

const cases: DriverCase[] = [
  {
    id: 'refuses-options-then-banner-then-online',
    rows: ['negotiation', 'refusal', 'banner', 'subscribe'],
    peer: peer(),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.main?.value).toBe(-10);
      expect(dev.peer.received.filter((f) => f.startsWith('\xff'))).toEqual(['\xff\xfc\x18', '\xff\xfe\x01', '\xff\xfc\x1f']);
    },
  },
  {
    id: 'publish-updates-state',
    rows: ['publish'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      dev.peer.push(T.publish.reply.replace('MyLabel', 'main'));
      await dev.until((d) => d.state.main?.value === -98.1, 'main = -98.1 from the publish');
    },
  },
  {
    id: 'set-ok',
    rows: ['set'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain('Level1 set level 1 -10');
    },
  },
  {
    id: 'get-terse-value',
    rows: ['get-terse'],
    peer: peer([{ when: /^\S+ get level /, reply: T['get-terse'].reply }]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('read', { control: 'main' })).toEqual({ ok: true, result: { value: -10 } });
    },
  },
  ...(['err-address', 'err-params', 'cannot-deliver'] as const).map(
    (row): DriverCase => ({
      id: `refused-${row}`,
      rows: [row],
      peer: peer([{ when: /^\S+ set level /, reply: T[row].reply }]),
      config,
      run: async (dev) => {
        await online(dev);
        const out = await dev.action('level', { control: 'main', db: -10 });
        expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
        expect(out.ok ? '' : out.message).toContain(T[row].reply.trim().slice(0, 12));
        expect((await dev.device()).status.status).toBe('online');
      },
    }),
  ),
  {
    id: 'no-banner-is-not-online',
    rows: ['negotiation'],
    peer: peer([], { banner: false }),
    config,
    run: async (dev) => {
      await dev.until(() => dev.peer.connections >= 2, 'a reconnect after the banner timeout', 4000);
      expect((await dev.device()).status.status).not.toBe('online');
    },
  },
];

describeDriverConformance('tesira', T, cases, knownDriverGaps);
