// Table-driven timelines on a fake clock: microphone on/off sequences →
// the camera (and mixer) commands the director sends, at which second.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../util/clock.js';
import { type DirectorSection, directorSettings } from './config.js';
import { DirectorEngine } from './engine.js';
import type { Decision, DirectorActuator } from './types.js';

type Step =
  | [at: number, what: 'on' | 'off', channel: number, chairman?: boolean]
  | [at: number, what: 'far_end', active: boolean];

interface Rig {
  clock: FakeClock;
  engine: DirectorEngine;
  /** Recalls and cuts sent, as "second camera:preset" / "second cut input". */
  commands: string[];
  /** Shots the director took, as "second camera:preset" (a recall unless the camera already sits there). */
  shots: string[];
  decisions: Decision[];
  /** Plays the steps, runs the clock to `untilS`, returns the shots. */
  run(steps: Step[], untilS: number): string[];
}

/** mic-1 channels: 1 → cam-1 p1, 2 → cam-2 p2, 3 → cam-1 p3, 4 → cam-2 p4, 9 (chairman seat) → cam-1 p9; overview cam-3 p0. */
function rig(
  over: Partial<DirectorSection> = {},
  opts: { moveMs?: number | null; offline?: Set<string>; mixer?: boolean } = {},
): Rig {
  const clock = new FakeClock(0);
  const commands: string[] = [];
  const decisions: Decision[] = [];
  const t = () => (clock.now() / 1000).toFixed(1);
  const moveMs = opts.moveMs === undefined ? 500 : opts.moveMs;
  const actuator: DirectorActuator = {
    isOnline: (d) => !opts.offline?.has(d),
    recall(camera, preset, _cause, done) {
      commands.push(`${t()} ${camera}:${preset}`);
      if (moveMs !== null) clock.setTimeout(() => done(null), moveMs);
    },
    cut(input, _cause, done) {
      commands.push(`${t()} cut ${input}`);
      done(null);
    },
  };
  const settings = directorSettings({
    overview: { camera: 'cam-3', preset: 0 },
    sources: [
      { device: 'mic-1', channel: 1, camera: 'cam-1', preset: 1, name: 'seat 1' },
      { device: 'mic-1', channel: 2, camera: 'cam-2', preset: 2, name: 'seat 2' },
      { device: 'mic-1', channel: 3, camera: 'cam-1', preset: 3, name: 'seat 3' },
      { device: 'mic-1', channel: 4, camera: 'cam-2', preset: 4, name: 'seat 4' },
      { device: 'mic-1', channel: 9, camera: 'cam-1', preset: 9, name: 'chair', chairman: true },
    ],
    ...(opts.mixer
      ? {
          mixer: {
            device: 'mixer',
            action: 'program',
            params: { input: '{input}' },
            inputs: { 'cam-1': 1, 'cam-2': 2, 'cam-3': 3 },
            move_timeout_s: 3,
          },
        }
      : {}),
    far_end: { device: 'dsp', state: 'far_end', delay_s: 2 },
    ...over,
  });
  const shots: string[] = [];
  const engine = new DirectorEngine(settings, clock, actuator, (d) => {
    decisions.push(d);
    if (d.shot && !d.reason.endsWith('shot unchanged')) shots.push(`${t()} ${d.shot.camera}:${d.shot.preset}`);
  });
  engine.start();
  return {
    clock,
    engine,
    commands,
    shots,
    decisions,
    run(steps, untilS) {
      for (const step of steps) {
        clock.advance(step[0] * 1000 - clock.now());
        if (step[1] === 'far_end') engine.farEnd(step[2] as boolean);
        else engine.mic({ device: 'mic-1', channel: step[2] as number, on: step[1] === 'on', chairman: step[3] === true });
      }
      clock.advance(untilS * 1000 - clock.now());
      return shots;
    },
  };
}

interface Row {
  name: string;
  settings?: Partial<DirectorSection>;
  steps: Step[];
  until: number;
  expect: string[];
}

function table(rows: Row[]) {
  for (const r of rows) {
    it(r.name, () => {
      expect(rig(r.settings).run(r.steps, r.until)).toEqual(r.expect);
    });
  }
}

describe('trigger delay', () => {
  table([
    {
      name: 'a blip shorter than the trigger moves nothing',
      steps: [
        [1, 'on', 1],
        [1.5, 'off', 1],
      ],
      until: 20,
      expect: ['0.0 cam-3:0'],
    },
    {
      name: 'speech lasting the trigger (1 s) recalls the seat',
      steps: [[1, 'on', 1]],
      until: 10,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1'],
    },
    {
      name: 'trigger 0 moves at once',
      settings: { trigger_s: 0 },
      steps: [[1, 'on', 1]],
      until: 10,
      expect: ['0.0 cam-3:0', '1.0 cam-1:1'],
    },
    {
      name: 'trigger 2.5 s',
      settings: { trigger_s: 2.5 },
      steps: [[1, 'on', 1]],
      until: 10,
      expect: ['0.0 cam-3:0', '3.5 cam-1:1'],
    },
  ]);
});

describe('gap tolerance', () => {
  table([
    {
      name: 'a 1 s pause keeps the talker; silence counts from the last off',
      steps: [
        [1, 'on', 1],
        [3, 'off', 1],
        [4, 'on', 1],
        [10, 'off', 1],
      ],
      until: 30,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '15.0 cam-3:0'],
    },
    {
      name: 'a pause within the gap counts toward the trigger',
      steps: [
        [1, 'on', 2],
        [1.8, 'off', 2],
        [2.3, 'on', 2],
      ],
      until: 10,
      expect: ['0.0 cam-3:0', '2.3 cam-2:2'],
    },
    {
      name: 'a pause longer than the gap restarts the trigger',
      settings: { gap_s: 0.3 },
      steps: [
        [1, 'on', 2],
        [1.8, 'off', 2],
        [2.3, 'on', 2],
      ],
      until: 10,
      expect: ['0.0 cam-3:0', '3.3 cam-2:2'],
    },
  ]);
});

describe('minimum dwell', () => {
  table([
    {
      name: 'a new talker waits for the end of the dwell (4 s)',
      steps: [
        [1, 'on', 1],
        [2.5, 'off', 1],
        [2.6, 'on', 2],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '6.0 cam-2:2'],
    },
    {
      name: 'dwell 0: the new talker follows when the gap ends',
      settings: { min_dwell_s: 0 },
      steps: [
        [1, 'on', 1],
        [2.5, 'off', 1],
        [2.6, 'on', 2],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '4.5 cam-2:2'],
    },
  ]);
});

describe('silence → overview', () => {
  table([
    {
      name: 'overview 5 s after the last mic off',
      steps: [
        [1, 'on', 1],
        [3, 'off', 1],
      ],
      until: 30,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '8.0 cam-3:0'],
    },
    {
      name: 'silence 10 s',
      settings: { silence_s: 10 },
      steps: [
        [1, 'on', 1],
        [3, 'off', 1],
      ],
      until: 30,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '13.0 cam-3:0'],
    },
    {
      name: 'silence 0 still respects the gap and the dwell',
      settings: { silence_s: 0 },
      steps: [
        [1, 'on', 1],
        [3, 'off', 1],
      ],
      until: 30,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '6.0 cam-3:0'],
    },
  ]);
});

describe('priority', () => {
  table([
    {
      name: 'first-come keeps the first talker until they stop',
      steps: [
        [1, 'on', 1],
        [1.5, 'on', 2],
        [8, 'off', 1],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '10.0 cam-2:2'],
    },
    {
      name: 'last-come takes the camera after the dwell',
      settings: { priority: 'last' },
      steps: [
        [1, 'on', 1],
        [1.5, 'on', 2],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '6.0 cam-2:2'],
    },
    {
      name: 'the chairman overrides first-come, then the delegate returns',
      steps: [
        [1, 'on', 1],
        [3, 'on', 9],
        [10, 'off', 9],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '6.0 cam-1:9', '12.0 cam-1:1'],
    },
    {
      name: 'a chairman flag from the device counts like a chairman seat',
      steps: [
        [1, 'on', 1],
        [3, 'on', 4, true],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '6.0 cam-2:4'],
    },
  ]);
});

describe('ping-pong damping', () => {
  const fast = { trigger_s: 0, gap_s: 0, min_dwell_s: 0 };
  const alternate: Step[] = [
    [1, 'on', 1],
    [2, 'on', 2],
    [2, 'off', 1],
    [3, 'on', 1],
    [3, 'off', 2],
    [4, 'on', 2],
    [4, 'off', 1],
  ];
  table([
    {
      name: 'the 4th switch within 20 s goes to the overview, held 20 s',
      settings: fast,
      steps: alternate,
      until: 30,
      expect: ['0.0 cam-3:0', '1.0 cam-1:1', '2.0 cam-2:2', '3.0 cam-1:1', '4.0 cam-3:0', '24.0 cam-2:2'],
    },
    {
      name: 'switches spread wider than the window are fine',
      settings: { ...fast, ping_pong_window_s: 1.5 },
      steps: alternate,
      until: 30,
      expect: ['0.0 cam-3:0', '1.0 cam-1:1', '2.0 cam-2:2', '3.0 cam-1:1', '4.0 cam-2:2'],
    },
  ]);
  it('explains the ping-pong decision', () => {
    const r = rig(fast);
    r.run(alternate, 5);
    const d = r.decisions.find((x) => x.rule === 'ping_pong');
    expect(d?.shot).toEqual({ kind: 'overview', camera: 'cam-3', preset: 0 });
    expect(d?.reason).toMatch(/more than 3 switches within 20 s/);
  });
});

describe('camera busy: only the latest pending target is kept', () => {
  it('recalls during a move collapse to the last one, sent after the Completion', () => {
    const r = rig({ trigger_s: 0, gap_s: 0, min_dwell_s: 0, ping_pong_switches: 100 }, { moveMs: 3000 });
    r.run(
      [
        [1, 'on', 1],
        [1.5, 'off', 1],
        [1.5, 'on', 3],
        [2, 'off', 3],
        [2, 'on', 1],
        [2.5, 'off', 1],
        [2.5, 'on', 3],
      ],
      10,
    );
    expect(r.commands).toEqual(['0.0 cam-3:0', '1.0 cam-1:1', '4.0 cam-1:3']);
  });
});

describe('recall commands', () => {
  it('a camera that already sits at the preset gets no recall', () => {
    const r = rig({ trigger_s: 0, gap_s: 0, min_dwell_s: 0 });
    r.run(
      [
        [1, 'on', 1],
        [2, 'on', 2],
        [2, 'off', 1],
        [3, 'on', 1],
        [3, 'off', 2],
        [4, 'off', 1],
      ],
      20,
    );
    expect(r.shots).toEqual(['0.0 cam-3:0', '1.0 cam-1:1', '2.0 cam-2:2', '3.0 cam-1:1', '9.0 cam-3:0']);
    expect(r.commands).toEqual(['0.0 cam-3:0', '1.0 cam-1:1', '2.0 cam-2:2']);
  });
});

describe('hiding the move with a mixer', () => {
  it('cuts after the Completion, covers an on-air move with the overview camera', () => {
    const r = rig({}, { mixer: true, moveMs: 1000 });
    r.run(
      [
        [2, 'on', 1],
        [5, 'off', 1],
        [12, 'on', 3],
        [15, 'off', 3],
        [15, 'on', 1],
      ],
      20,
    );
    expect(r.commands).toEqual([
      '0.0 cam-3:0',
      '1.0 cut 3',
      '3.0 cam-1:1',
      '4.0 cut 1',
      '10.0 cut 3', // overview camera already at its preset: just cut
      '14.0 cam-1:3', // seat 3 eligible at 13, overview dwell until 14
      '15.0 cut 1',
      '18.0 cut 3', // cam-1 is on air and must move: show the overview meanwhile
      '18.0 cam-1:1',
      '19.0 cut 1',
    ]);
  });
  it('a recall queued behind a move starts its timeout when it is sent', () => {
    const r = rig({ trigger_s: 0, gap_s: 0, min_dwell_s: 0 }, { mixer: true, moveMs: 5000 });
    r.run(
      [
        [6, 'on', 1],
        [10, 'off', 1],
        [10, 'on', 3],
      ],
      20,
    );
    expect(r.commands).toEqual([
      '0.0 cam-3:0',
      '3.0 cut 3', // timeout: the overview camera takes 5 s
      '6.0 cam-1:1',
      '9.0 cut 1',
      '10.0 cut 3', // cam-1 on air must move again: cover
      '11.0 cam-1:3', // sent after the Completion of p1
      '14.0 cut 1', // timeout counted from 11, not from 10
    ]);
  });

  it('cuts back after move_timeout_s when the camera never completes', () => {
    const r = rig({}, { mixer: true, moveMs: null });
    r.run([[2, 'on', 1]], 10);
    // The overview's own recall never completes either: cut to it after 3 s anyway.
    expect(r.commands).toEqual(['0.0 cam-3:0', '3.0 cut 3', '3.0 cam-1:1', '6.0 cut 1']);
  });
});

describe('far-end speech', () => {
  table([
    {
      name: 'far end ≥ 2 s → overview; back to the talker after the dwell',
      steps: [
        [1, 'on', 1],
        [5, 'far_end', true],
        [9, 'far_end', false],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1', '7.0 cam-3:0', '11.0 cam-1:1'],
    },
    {
      name: 'a far-end blip shorter than 2 s changes nothing',
      steps: [
        [1, 'on', 1],
        [5, 'far_end', true],
        [6, 'far_end', false],
      ],
      until: 20,
      expect: ['0.0 cam-3:0', '2.0 cam-1:1'],
    },
  ]);
});

describe('faults and overrides', () => {
  it('a camera that is offline is skipped, and the decision says so', () => {
    const r = rig({}, { offline: new Set(['cam-1']) });
    expect(
      r.run(
        [
          [1, 'on', 1],
          [1.2, 'on', 2],
        ],
        10,
      ),
    ).toEqual(['0.0 cam-3:0', '2.2 cam-2:2']);
    const offline = r.decisions.find((d) => d.rule === 'camera_offline');
    expect(offline?.reason).toMatch(/skipped seat 1: camera cam-1 offline/);
    expect(r.decisions.at(-1)?.reason).toMatch(/skipped seat 1: camera cam-1 offline/);
  });

  it('a camera that comes back online gets the current shot again (and the mixer its cut)', () => {
    const offline = new Set(['cam-3', 'mixer']);
    const r = rig({}, { offline, mixer: true, moveMs: 1000 });
    expect(r.commands).toEqual([]);
    expect(r.decisions[0].reason).toMatch(/camera cam-3 is offline, recall not sent/);
    offline.delete('cam-3');
    r.engine.deviceStatus('cam-3', true);
    r.clock.advance(2000); // the cut after the Completion fails: the mixer is offline
    offline.delete('mixer');
    r.engine.deviceStatus('mixer', true);
    expect(r.commands).toEqual(['0.0 cam-3:0', '1.0 cut 3', '2.0 cut 3']);
    expect(r.decisions.at(-1)?.reason).toBe('nobody speaks; mixer back online, shot sent again');
  });

  it('a microphone device going offline while a mic is on → overview after the silence timeout', () => {
    const r = rig();
    r.run([[1, 'on', 1]], 5);
    r.engine.deviceStatus('mic-1', false);
    r.clock.advance(15_000);
    expect(r.shots).toEqual(['0.0 cam-3:0', '2.0 cam-1:1', '10.0 cam-3:0']);
  });

  it('a manual camera action pauses the director for override_s, then it re-takes the shot', () => {
    const r = rig({ override_s: 30 });
    r.run([[1, 'on', 1]], 3);
    r.engine.manualAction('cam-1', 'api operator ran cam-1.preset.recall');
    expect(r.engine.status().mode).toBe('paused');
    r.run([[5, 'on', 2]], 40);
    expect(r.commands).toEqual(['0.0 cam-3:0', '2.0 cam-1:1', '33.0 cam-1:1']);
    expect(r.decisions.map((d) => d.rule)).toEqual(expect.arrayContaining(['override', 'resume']));
  });

  it('mode off and paused stop all commands; auto resumes', () => {
    const r = rig();
    r.engine.setMode('off');
    r.run([[1, 'on', 1]], 10);
    expect(r.commands).toEqual(['0.0 cam-3:0']);
    r.engine.setMode('auto');
    expect(r.commands).toEqual(['0.0 cam-3:0', '10.0 cam-1:1']);
  });

  it('a burst of 500 gate changes in 1 s: bounded commands, last state wins', () => {
    const r = rig({ trigger_s: 0, gap_s: 0, min_dwell_s: 0, ping_pong_switches: 1000 }, { moveMs: 200 });
    let maxPending = 0;
    for (let i = 0; i < 500; i++) {
      r.clock.advance(2);
      const ch = [1, 2, 3, 4][i % 4];
      r.engine.mic({ device: 'mic-1', channel: ch, on: i % 3 !== 0 });
      const cams = r.engine.status().cameras;
      for (const c of Object.values(cams)) maxPending = Math.max(maxPending, c.pending === null ? 0 : 1);
    }
    for (const ch of [1, 2, 3]) r.engine.mic({ device: 'mic-1', channel: ch, on: false });
    r.engine.mic({ device: 'mic-1', channel: 4, on: true });
    r.clock.advance(5000);
    // One recall in flight per camera every 200 ms at most: ≤ 2 cameras × (1000/200 + 1) + overview.
    expect(r.commands.length).toBeLessThanOrEqual(14);
    expect(maxPending).toBeLessThanOrEqual(1);
    expect(r.engine.status().shot).toMatchObject({ camera: 'cam-2', preset: 4 });
    expect(r.engine.status().cameras['cam-2']).toEqual({ preset: 4, moving: false, pending: null });
  });
});
