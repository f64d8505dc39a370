// Tesira TTP conformance (issue 17): the rows of conformance.ts (a) against
// our simulator over Telnet on loopback, (b) against the driver inside a real
// agent, with a scripted Tesira replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConformancePeer,
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerRule,
  type PeerScript,
  SimProbe,
} from '../../test/support/conformance.js';
import { knownDriverGaps, refusalsOf, tesiraTable as T } from './conformance.js';
import { TesiraSimulator, type TesiraSimulatorOptions } from './simulator.js';
import { DONT, WILL } from './simulator-codec.js';

it('every row cites its source', () => checkTable(T));

const DESIGN: TesiraSimulatorOptions = {
  blocks: {
    Level1: { kind: 'level', channels: { 1: -10, 2: -10 } },
    Mute1: { kind: 'mute', channels: { 1: false, 2: false } },
    Mixer1: { kind: 'mixer', channels: { 1: 0, 2: 0 }, outputs: 2 },
    MyLevel1: { kind: 'level', channels: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0 } },
    'Room Level': { kind: 'level', channels: { 1: -20 } },
  },
  presets: { 1001: { 'Mute1/2': true } },
  presetNames: { 'Room Combined': 1001 },
};

/** Connects and refuses the three rounds; returns the probe after the banner. */
async function session(sim: TesiraSimulator): Promise<SimProbe> {
  const probe = await SimProbe.connect(await sim.start(), 'latin1');
  await probe.expect(T.negotiation.reply, 'negotiation');
  await probe.row(T['refusal-round-1']);
  await probe.row(T['refusal-round-2']);
  await probe.row(T['refusal-last']);
  return probe;
}

describe('tesira: simulator against the manual', () => {
  const sims: TesiraSimulator[] = [];
  const probes: SimProbe[] = [];
  const start = async (o: TesiraSimulatorOptions = DESIGN) => {
    const sim = new TesiraSimulator({ ...DESIGN, ...o });
    sims.push(sim);
    const probe = await session(sim);
    probes.push(probe);
    return { sim, probe };
  };
  afterAll(async () => {
    for (const p of probes) p.close();
    for (const s of sims) await s.stop();
  });

  it('negotiates in rounds; nothing before the refusals; banner framed in CR LF after DO 0x0A', async () => {
    const sim = new TesiraSimulator(DESIGN);
    sims.push(sim);
    const probe = await SimProbe.connect(await sim.start(), 'latin1');
    probes.push(probe);
    await probe.expect(T.negotiation.reply, 'negotiation');
    probe.send('Level1 get level 1\n'); // not a session yet: ignored
    probe.send(refusalsOf(T.negotiation.reply).slice(0, 6)); // part of a round does not move on
    await new Promise((r) => setTimeout(r, 50));
    expect(probe.text).toBe(T.negotiation.reply);
    expect(sim.startedSessions).toBe(0);
    probe.send(refusalsOf(T.negotiation.reply).slice(6));
    await probe.expect(T['refusal-round-1'].reply);
    await probe.row(T['refusal-round-2']);
    await probe.row(T['refusal-last']);
    expect(probe.text.endsWith(T.banner.reply)).toBe(true);
    expect(sim.startedSessions).toBe(1);
    expect(sim.received).toEqual([]);
  });

  it('commands, replies and the documented error texts', async () => {
    const { probe } = await start();
    for (const id of [
      'session-verbose',
      'session-aliases',
      'set',
      'get-verbose',
      'level-block-mute',
      'num-channels',
      'toggle',
      'mixer-get',
      'quoted-tag',
      'recall-preset',
      'recall-preset-by-name',
      'err-address',
      'err-verb',
      'err-attribute',
      'err-attribute-block',
      'err-params',
      'err-value',
      'err-index',
    ] as const) {
      await probe.row(T[id]);
    }
    // The DONT to the DO 0x0A that came with the banner is taken quietly.
    probe.send('\xff\xfc\x0a');
    probe.send('Mute1 get mute 2\n');
    await probe.expect('+OK "value":true\r\n', 'preset 1001 muted Mute1/2');
    probe.send('Level1 get level 5\n');
    await probe.expect('-ERR INVALID_PARAMETER Index out of range:channelIndex min:1 max:2 received:5\r\n');
    probe.send('my level 2 get level 1\n'); // TTP Syntax: tags with spaces unquoted → address not found
    await probe.expect(`${T['err-address'].reply}`);
  });

  it('subscriptions: current value then +OK, publish only on a change, one publish per label', async () => {
    const { sim, probe } = await start();
    await probe.row(T['subscribe-no-label']);
    await probe.row(T.increment);
    await probe.expect('! "publishToken":"" "value":-7.000000\r\n', 'the increment published');
    await probe.row(T.subscribe);
    sim.setValue('Level1', 1, -98.1);
    await probe.row(T.publish);
    sim.setValue('Level1', 1, -98.1); // no change: nothing is published
    probe.send('Level1 get level 1\n');
    expect(await probe.expect(/[^\n]*\n/)).toBe('+OK "value":-98.099998\r\n');
    probe.send('Level1 subscribe level 1 MyLabel 500\n'); // the same label renews, no second subscription
    await probe.expect('+OK\r\n');
    probe.send('Level1 subscribe level 1 Other 500\n');
    await probe.expect('+OK\r\n');
    sim.setValue('Level1', 1, -20);
    await probe.expect('! "publishToken":"MyLabel" "value":-20.000000\r\n! "publishToken":"Other" "value":-20.000000\r\n');
    sim.setValue('Level1', 1, -10);
    probe.send('SESSION set verbose false\n');
    await probe.expect('\r\n+OK\r\n');
    await probe.row(T['get-terse']);
    sim.setValue('Level1', 1, -40.244328);
    await probe.expect(T['publish-terse'].reply);
    probe.send('SESSION set verbose true\n');
    await probe.expect('+OK\r\n');
    await probe.row(T.unsubscribe);
    probe.send('Level1 unsubscribe level 1 Other\n');
    await probe.expect('+OK\r\n');
    sim.setValue('Level1', 1, -30);
    probe.send('Level1 get level 1\n');
    expect(await probe.expect(/[^\n]*\n/)).toBe('+OK "value":-30.000000\r\n');
  });

  it('a configuration push drops the subscriptions, not the session', async () => {
    const { sim, probe } = await start();
    await probe.row(T.subscribe);
    sim.pushConfiguration();
    sim.setValue('Level1', 1, -33);
    probe.send('Level1 get level 1\n');
    expect(await probe.expect(/[^\n]*\n/)).toBe('+OK "value":-33.000000\r\n');
    probe.send(T.subscribe.send);
    await probe.expect('! "publishToken":"MyLabel" "value":-33.000000\r\n+OK\r\n');
  });

  it('the first publish and +OK on one line, as the Subscriptions page prints it', async () => {
    const { probe } = await start({ subscribeOkOnOneLine: true });
    await probe.row(T['subscribe-one-line']);
  });

  it('lines may end in CR NUL', async () => {
    const { probe } = await start({ lineEnd: '\r\0' });
    await probe.row(T['cr-nul']);
  });

  it('asks for an option in the middle of a session; the session goes on', async () => {
    const { sim, probe } = await start();
    sim.negotiate(WILL, 1);
    await probe.expect(T['late-negotiation'].reply);
    expect(sim.unrefusedLateRequests).toBe(1);
    probe.send(`\xff${String.fromCharCode(DONT)}\x01Level1 get level 1\n`);
    await probe.expect(T['get-verbose'].reply);
    expect(sim.unrefusedLateRequests).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// The driver against a scripted Tesira replaying the rows.

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

const lastOf = (round: string) => refusalsOf(round).slice(-3);
const initialValue = (attr: string) => (attr === 'mute' ? 'false' : '-10.000000');

function peer(extra: PeerRule[] = [], o: { banner?: boolean; crNul?: boolean } = {}): PeerScript {
  // CR NUL for every line after the banner (the Telnet page frames the banner itself in CR LF).
  const eol = (t: string | string[]) =>
    o.crNul ? ([] as string[]).concat(t).map((x) => (x.includes('Welcome') ? x : x.replaceAll('\r\n', '\r\0'))) : t;
  const rules: PeerRule[] = [
    ...extra,
    { when: lastOf(T.negotiation.reply), reply: T['refusal-round-1'].reply },
    { when: lastOf(T['refusal-round-1'].reply), reply: T['refusal-round-2'].reply },
    { when: lastOf(T['refusal-round-2'].reply), reply: o.banner === false ? [] : T['refusal-last'].reply },
    { when: /^\xff/, reply: [] },
    { when: /^SESSION set verbose/, reply: T['session-verbose'].reply },
    {
      when: /^("[^"]*"|\S+) subscribe (level|mute) (\d+) (\S+)/,
      reply: (m) => T.subscribe.reply.replace('MyLabel', m[4] ?? '').replace('-10.000000', initialValue(m[2] ?? '')),
    },
    { when: /^("[^"]*"|\S+) (set|toggle) /, reply: T.set.reply },
    { when: /^\S+ get level /, reply: T['get-verbose'].reply },
    { when: /^DEVICE recallPreset(ByName)? /, reply: T['recall-preset'].reply },
  ];
  return {
    framer: tesiraFramer,
    encoding: 'latin1',
    greet: [T.negotiation.reply],
    rules: rules.map((r) =>
      typeof r.reply === 'function'
        ? { ...r, reply: (m) => eol((r.reply as (m: RegExpExecArray) => string)(m)) }
        : { ...r, reply: eol(r.reply) },
    ),
    fallback: () => T['err-verb'].reply,
  };
}
const config = {
  controls: { main: { instance: 'Level1', type: 'level', channel: 1 } },
  request_timeout_ms: 300,
  banner_timeout_ms: 1000,
};
const withControl = (control: Record<string, unknown>) => ({ ...config, controls: { ...config.controls, extra: control } });
const subscribeAnswer = (channel: number, row: keyof typeof T): PeerRule => ({
  when: new RegExp(`^\\S+ subscribe \\S+ ${channel} `),
  reply: T[row].reply,
});

const cases: DriverCase[] = [
  {
    id: 'negotiates-three-rounds-then-online',
    rows: ['negotiation', 'refusal-round-1', 'refusal-round-2', 'refusal-last', 'banner', 'subscribe'],
    peer: peer(),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.main?.value).toBe(-10);
      const refusals = [T.negotiation.reply, T['refusal-round-1'].reply, T['refusal-round-2'].reply, '\xff\xfd\x0a']
        .map(refusalsOf)
        .join('');
      await dev.until(
        () => dev.peer.received.filter((f) => f.startsWith('\xff')).join('') === refusals,
        'every request refused once, DO 0x0A too',
      );
      // Biamp Cornerstone: "wait for the Welcome … message before sending any commands".
      const received = dev.peer.received;
      const lastRefusal = received.indexOf(refusalsOf(T['refusal-round-2'].reply).slice(-3));
      expect(received.findIndex((f) => !f.startsWith('\xff'))).toBeGreaterThan(lastRefusal);
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
      await dev.until((d) => Math.abs(Number(d.state.main?.value) + 98.1) < 1e-4, 'main ≈ -98.1 from the publish');
    },
  },
  {
    id: 'set-level-and-a-level-blocks-mute',
    rows: ['set', 'level-block-mute'],
    peer: peer(),
    config: withControl({ instance: 'Level1', type: 'mute', channel: 2 }),
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      expect(await dev.action('mute', { control: 'extra', on: true })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain('Level1 set level 1 -10');
      expect(dev.peer.received).toContain('Level1 set mute 2 true');
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
  ...(['err-address', 'err-params', 'err-attribute-block', 'cannot-deliver', 'general-failure'] as const).map(
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
      await dev.until(() => dev.peer.connections >= 2, 'a reconnect after the banner timeout', 10_000);
      expect((await dev.device()).status.status).not.toBe('online');
    },
  },
  {
    id: 'cr-nul-line-ends',
    rows: ['cr-nul', 'subscribe', 'publish'],
    peer: peer([], { crNul: true }),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.main?.value).toBe(-10);
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      dev.peer.push(T.publish.reply.replace('MyLabel', 'main').replace('\r\n', '\r\0'));
      await dev.until((r) => Math.abs(Number(r.state.main?.value) + 98.1) < 1e-4, 'main ≈ -98.1 from a CR NUL publish');
    },
  },
  {
    id: 'late-negotiation-refused',
    rows: ['late-negotiation', 'publish'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      dev.peer.push(T['late-negotiation'].reply);
      await dev.until(() => dev.peer.received.includes('\xff\xfe\x01'), 'DONT echo in answer to a WILL echo mid-session');
      // A request glued in front of a publish in one chunk.
      dev.peer.push(`\xff\xfd\x01${T.publish.reply.replace('MyLabel', 'main')}`);
      await dev.until((d) => Math.abs(Number(d.state.main?.value) + 98.1) < 1e-4, 'the publish after the request');
      await dev.until(() => dev.peer.received.includes('\xff\xfc\x01'), 'WONT echo');
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'subscribe-reply-on-one-line',
    rows: ['subscribe-one-line'],
    peer: peer([{ when: /^\S+ subscribe level 1 main/, reply: T['subscribe-one-line'].reply.replace('MyLabel', 'main') }]),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.main?.value).toBe(-10);
    },
  },
  ...(
    [
      ['unknown-tag-is-bad-config', 'err-address', /address not found/],
      ['wrong-channel-is-bad-config', 'err-index', /Index out of range/],
      ['wrong-block-type-is-bad-config', 'err-attribute-block', /is not supported by/],
    ] as const
  ).map(
    ([id, row, words]): DriverCase => ({
      id,
      rows: [row],
      peer: peer([subscribeAnswer(9, row)]),
      config: withControl({ instance: 'Level1', type: 'level', channel: 9 }),
      run: async (dev) => {
        const d = await dev.until((r) => r.status.status === 'bad_config', 'bad_config', 10_000);
        expect(d.status.message).toMatch(words);
      },
    }),
  ),
  {
    id: 'instance-tag-with-spaces-is-quoted',
    rows: ['quoted-tag'],
    peer: peer(),
    config: { ...config, controls: { main: { instance: 'Room Level', type: 'level', channel: 1 } } },
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('level', { control: 'main', db: -10 })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain(T['quoted-tag'].send.trim());
      expect(dev.peer.received.some((f) => f.startsWith('Room Level'))).toBe(false);
    },
  },
  {
    id: 'keepalive-probe',
    rows: ['session-verbose'],
    peer: peer(),
    config: { ...config, keepalive_ms: 1000 },
    run: async (dev) => {
      await online(dev);
      const probes = () => dev.peer.received.filter((f) => f === T['session-verbose'].send.trim()).length;
      await dev.until(() => probes() >= 3, 'two probes after the one of the handshake', 10_000);
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'preset-by-id-and-by-name',
    rows: ['recall-preset', 'recall-preset-by-name'],
    peer: peer(),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('preset.recall', { id: 1001 })).toMatchObject({ ok: true });
      expect(await dev.action('preset.recall', { id: 'Room Combined' })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain(T['recall-preset'].send.trim());
      expect(dev.peer.received).toContain(T['recall-preset-by-name'].send.trim());
    },
  },
];

/** The simulator itself as the peer of a driver case. */
function simulatorPeer(sim: TesiraSimulator): () => Promise<ConformancePeer> {
  return async () => {
    const port = await sim.start();
    return {
      port,
      received: sim.received,
      get connections() {
        return sim.connections;
      },
      get clientCount() {
        return sim.startedSessions;
      },
      push: (text) => sim.injectRaw(Buffer.from(text, 'latin1')),
      stop: () => sim.stop(),
    };
  };
}
const pushedSim = new TesiraSimulator(DESIGN);
cases.push({
  id: 'resubscribes-after-a-configuration-push',
  rows: ['subscribe', 'publish'],
  peer: simulatorPeer(pushedSim),
  config: { ...config, resubscribe_ms: 1000, keepalive_ms: 1000 },
  run: async (dev) => {
    await online(dev);
    pushedSim.pushConfiguration();
    pushedSim.setValue('Level1', 1, -33);
    await dev.until((d) => d.state.main?.value === -33, 'main = -33 once the driver subscribed again', 10_000);
  },
});

describeDriverConformance('tesira', T, cases, knownDriverGaps);
