// The camera director's rules, on an injectable clock and actuator so every
// rule can be tested as a timeline on a FakeClock. Synchronous: inputs update
// state and re-evaluate at once; one wake-up timer covers every deadline.
import type { Cause } from '../host/contract.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { CameraQueue } from './cameras.js';
import type { DirectorMode, DirectorSection } from './config.js';
import { chooseShot, isActive, type MicInput, micKey, type RuleInput, type Talker, type Want } from './rules.js';
import { iso } from '../util/iso.js';
import type { CurrentShot, Decision, DecisionRule, DirectorActuator, DirectorStatus, Shot } from './types.js';

export { type MicInput, micKey };

export class DirectorEngine {
  private mode: DirectorMode;
  private pausedUntil: number | null = null;
  private current: (CurrentShot & { sinceMs: number }) | null = null;
  private readonly talkers = new Map<string, Talker>();
  private switches: number[] = [];
  private pingPongUntil = 0;
  private farEndSince: number | null = null;
  private lastOff = Number.NEGATIVE_INFINITY;
  private program: string | number | null = null;
  private moveTimer: TimerHandle | null = null;
  private wake: TimerHandle | null = null;
  private wakeAt = 0;
  private running = false;
  /** Rule to name the first overview after start or resume. */
  private freshRule: DecisionRule | null = 'start';
  private readonly cameras: CameraQueue;
  private readonly ruleInput: RuleInput;

  constructor(
    private readonly s: DirectorSection,
    private readonly clock: Clock,
    private readonly actuator: DirectorActuator,
    private readonly onDecision: (d: Decision) => void,
    /** Anything in the status changed (for the `director` topic). */
    private readonly onChange: () => void = () => undefined,
  ) {
    this.mode = s.mode;
    for (const src of s.sources) {
      const key = micKey(src.device, src.channel);
      this.talkers.set(key, {
        key,
        source: src,
        name: src.name ?? `${src.device} channel ${src.channel}`,
        on: false,
        chairman: src.chairman === true,
        since: null,
        offAt: null,
      });
    }
    this.cameras = new CameraQueue(actuator, (camera, preset, err) => this.settled(camera, preset, err));
    this.ruleInput = {
      s,
      now: 0,
      talkers: [...this.talkers.values()],
      current: null,
      farEndSince: null,
      pingPongUntil: 0,
      lastOff: this.lastOff,
      freshRule: this.freshRule,
      isOnline: (d) => actuator.isOnline(d),
      overview: this.overview(),
    };
  }

  start(): void {
    this.running = true;
    this.evaluate();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.wake);
    this.clock.clearTimeout(this.moveTimer);
    this.wake = this.moveTimer = null;
  }

  /** A microphone event. Returns false when the microphone is not mapped to a shot. */
  mic(ev: MicInput): boolean {
    const t = this.talkers.get(micKey(ev.device, ev.channel));
    if (!t) return false;
    const now = this.clock.now();
    t.chairman = t.source.chairman === true || ev.chairman === true;
    if (ev.on && !t.on) {
      if (!this.isActive(t, now)) t.since = now;
      t.on = true;
      t.offAt = null;
    } else if (!ev.on && t.on) {
      t.on = false;
      t.offAt = now;
      this.lastOff = now;
    }
    this.evaluate();
    return true;
  }

  /** A device went offline/online: its microphones stop; a camera that returns gets its shot again. */
  deviceStatus(device: string, online: boolean): void {
    const now = this.clock.now();
    if (!online) {
      for (const t of this.talkers.values()) {
        if (t.source.device === device && t.on) {
          t.on = false;
          t.offAt = this.lastOff = now;
        }
      }
    } else if (this.mode === 'auto' && this.current && (this.current.camera === device || this.s.mixer?.device === device)) {
      // The current shot's camera (or the mixer) is back: send the shot again, and say so.
      const cur = this.current;
      if (cur.camera === device) this.cameras.forget(device);
      else this.program = null;
      const base = cur.reason.replace(/(; camera \S+ is offline, recall not sent|; \S+ back online, shot sent again)+$/, '');
      cur.reason = `${base}; ${device} back online, shot sent again`;
      this.drive(cur, this.cause(cur.rule, cur.mic, cur.reason));
      this.decide({
        rule: cur.rule,
        shot: { kind: cur.kind, camera: cur.camera, preset: cur.preset },
        mic: cur.mic,
        reason: cur.reason,
      });
    }
    this.evaluate();
  }

  /** The far-end speech signal changed. */
  farEnd(active: boolean): void {
    if (active && this.farEndSince === null) this.farEndSince = this.clock.now();
    if (!active) this.farEndSince = null;
    this.evaluate();
  }

  /** Someone else drove a camera, the mixer or a scenario ran: pause for override_s. */
  manualAction(device: string, detail: string): void {
    if (this.s.mixer && device === this.s.mixer.device) this.program = null;
    if (device === this.s.overview.camera || this.s.sources.some((x) => x.camera === device)) this.cameras.forget(device);
    if (this.mode === 'off' || this.s.override_s <= 0) return;
    const now = this.clock.now();
    const until = now + this.s.override_s * 1000;
    if (this.mode === 'paused' && this.pausedUntil === null) return; // paused by hand: stays paused
    this.mode = 'paused';
    this.pausedUntil = Math.max(until, this.pausedUntil ?? 0);
    this.leaveAuto();
    this.decide({ rule: 'override', shot: null, mic: null, reason: `${detail}; director paused until ${iso(this.pausedUntil)}` });
    this.evaluate();
  }

  setMode(mode: DirectorMode, forS?: number, who = 'operator'): void {
    const now = this.clock.now();
    this.mode = mode;
    this.pausedUntil = mode === 'paused' && forS ? now + forS * 1000 : null;
    if (mode === 'auto') {
      // Cameras may have been moved meanwhile: start from a fresh picture.
      this.current = null;
      this.freshRule = 'resume';
    } else this.leaveAuto();
    const until = this.pausedUntil !== null ? ` until ${iso(this.pausedUntil)}` : '';
    this.decide({ rule: 'mode', shot: null, mic: null, reason: `${who} set mode ${mode}${until}` });
    this.evaluate();
  }

  status(): DirectorStatus {
    const { sinceMs: _dwellFrom, ...shot } = this.current ?? { sinceMs: 0 };
    return {
      mode: this.mode,
      paused_until: this.pausedUntil !== null ? iso(this.pausedUntil) : null,
      shot: this.current ? (shot as CurrentShot) : null,
      talkers: [...this.talkers.values()].map((t) => ({
        mic: t.key,
        name: t.name,
        on: t.on,
        chairman: t.chairman,
        since: t.since !== null && this.isActive(t, this.clock.now()) ? iso(t.since) : null,
      })),
      cameras: this.cameras.snapshot(),
      program: this.program,
      far_end: this.farEndSince !== null,
    };
  }

  private isActive(t: Talker, now: number): boolean {
    return isActive(t, now, this.s.gap_s);
  }

  private evaluate(): void {
    if (!this.running) return;
    const now = this.clock.now();
    if (this.mode === 'paused' && this.pausedUntil !== null && now >= this.pausedUntil) {
      this.mode = 'auto';
      this.pausedUntil = null;
      this.current = null;
      this.freshRule = 'resume';
      this.decide({ rule: 'resume', shot: null, mic: null, reason: 'manual override ended; director back in auto' });
    }
    if (this.mode === 'auto') {
      let want = this.want(now);
      const cur = this.current;
      if (want && cur && cur.camera === want.shot.camera && cur.preset === want.shot.preset && want.rule !== cur.rule) {
        // Same picture for a new reason (e.g. the talker's camera went offline): say so.
        cur.rule = want.rule;
        cur.reason = want.reason;
        cur.mic = want.mic;
        this.decide({ rule: want.rule, shot: want.shot, mic: want.mic, reason: `${want.reason}; shot unchanged` });
      } else if (want && !(cur && cur.camera === want.shot.camera && cur.preset === want.shot.preset)) {
        if (!cur || now >= cur.sinceMs + this.s.min_dwell_s * 1000) {
          if (want.shot.kind === 'speaker') want = this.pingPong(now, want);
          if (!(cur && cur.camera === want.shot.camera && cur.preset === want.shot.preset)) this.take(want, now);
        }
      }
    }
    this.schedule(now);
    this.onChange();
  }

  /** Counts switches to speaker shots; one too many within the window → overview. */
  private pingPong(now: number, want: Want): Want {
    if (this.s.ping_pong_switches === 0) return want;
    const windowMs = this.s.ping_pong_window_s * 1000;
    this.switches = this.switches.filter((t) => now - t < windowMs);
    if (this.switches.length < this.s.ping_pong_switches) {
      this.switches.push(now);
      return want;
    }
    this.switches = [];
    this.pingPongUntil = now + this.s.ping_pong_hold_s * 1000;
    return {
      shot: this.overview(),
      rule: 'ping_pong',
      mic: want.mic,
      reason:
        `more than ${this.s.ping_pong_switches} switches within ${this.s.ping_pong_window_s} s ` +
        `(next would be ${want.mic}); overview held until ${iso(this.pingPongUntil)}`,
    };
  }

  private overview(): Shot {
    return { kind: 'overview', camera: this.s.overview.camera, preset: this.s.overview.preset };
  }

  /** The shot the rules ask for now, or null to keep the current one. */
  private want(now: number): Want | null {
    // One input object, updated in place: this runs for every microphone event.
    const r = this.ruleInput;
    r.now = now;
    r.current = this.current;
    r.farEndSince = this.farEndSince;
    r.pingPongUntil = this.pingPongUntil;
    r.lastOff = this.lastOff;
    r.freshRule = this.freshRule;
    return chooseShot(r);
  }

  private take(want: Want, now: number): void {
    // The first shot after start/resume is housekeeping, not a cut the audience saw: no dwell.
    const fresh = want.rule === 'start' || want.rule === 'resume';
    this.current = {
      ...want.shot,
      since: iso(now),
      sinceMs: fresh ? Number.NEGATIVE_INFINITY : now,
      rule: want.rule,
      reason: want.reason,
      mic: want.mic,
    };
    this.freshRule = null;
    const online = this.actuator.isOnline(want.shot.camera);
    const reason = online ? want.reason : `${want.reason}; camera ${want.shot.camera} is offline, recall not sent`;
    this.current.reason = reason;
    // Command first, then the log: the SQLite write is not in the camera's path.
    if (online) this.drive(want.shot, this.cause(want.rule, want.mic, reason));
    this.decide({ rule: want.rule, shot: want.shot, mic: want.mic, reason });
  }

  /** Moves the camera and, with a mixer, keeps the move off air. */
  private drive(shot: Shot, cause: Cause): void {
    const mixer = this.s.mixer;
    const input = mixer?.inputs[shot.camera];
    if (!mixer || input === undefined) {
      this.cameras.request(shot.camera, shot.preset, cause);
      return;
    }
    this.clock.clearTimeout(this.moveTimer);
    this.moveTimer = null;
    if (!this.cameras.needsMove(shot.camera, shot.preset)) {
      this.cut(input, cause);
      return;
    }
    // Hide the move: never show a camera on air while it travels.
    if (this.program === input) {
      const cover = this.coverFor(shot.camera);
      if (cover !== null) this.cut(cover, cause);
    }
    // A recall queued behind a move in flight starts its timeout when it is sent (see settled).
    if (this.cameras.request(shot.camera, shot.preset, cause) !== 'queued') this.startMoveTimer(shot);
  }

  private startMoveTimer(shot: Shot): void {
    const mixer = this.s.mixer;
    if (!mixer) return;
    this.clock.clearTimeout(this.moveTimer);
    this.moveTimer = this.clock.setTimeout(() => {
      this.moveTimer = null;
      this.cutBack(shot.camera, shot.preset);
    }, mixer.move_timeout_s * 1000);
  }

  private coverFor(camera: string): string | number | null {
    const mixer = this.s.mixer;
    if (!mixer) return null;
    const ov = this.s.overview.camera;
    const ovInput = mixer.inputs[ov];
    if (ov !== camera && ovInput !== undefined && !this.cameras.isMoving(ov) && this.actuator.isOnline(ov)) return ovInput;
    return mixer.cover_input ?? null;
  }

  private cutBack(camera: string, preset: number): void {
    const cur = this.current;
    const input = this.s.mixer?.inputs[camera];
    if (this.mode !== 'auto' || !cur || cur.camera !== camera || cur.preset !== preset || input === undefined) return;
    this.cut(input, this.cause(cur.rule, cur.mic, cur.reason));
    this.onChange();
  }

  private cut(input: string | number, cause: Cause): void {
    if (this.program === input) return;
    this.program = input;
    this.actuator.cut(input, cause, (err) => {
      if (!err || !this.running) return;
      if (this.program === input) this.program = null;
      this.decide({ rule: 'error', shot: null, mic: null, reason: `cut to input ${input} failed: ${err.message}` });
      this.onChange();
    });
  }

  private settled(camera: string, preset: number, err: Error | null): void {
    if (!this.running) return;
    if (err) {
      this.decide({ rule: 'error', shot: null, mic: null, reason: `${camera} preset ${preset} failed: ${err.message}` });
    }
    const cur = this.current;
    if (cur && cur.camera === camera && cur.preset === preset && this.moveTimer) {
      this.clock.clearTimeout(this.moveTimer);
      this.moveTimer = null;
      this.cutBack(camera, preset);
    } else if (cur && cur.camera === camera && this.cameras.movingTo(camera) === cur.preset && !this.moveTimer) {
      this.startMoveTimer(cur);
    }
    this.onChange();
  }

  private leaveAuto(): void {
    this.clock.clearTimeout(this.moveTimer);
    this.moveTimer = null;
  }

  private cause(rule: DecisionRule, mic: string | null, reason: string): Cause {
    const t = mic ? this.talkers.get(mic) : undefined;
    return { kind: 'director', name: rule, detail: t ? `microphone ${t.key} (${t.name})` : reason };
  }

  private decide(d: Omit<Decision, 'at'>): void {
    this.onDecision({ at: iso(this.clock.now()), ...d });
  }

  /** One timer for the earliest deadline any rule waits for. */
  private schedule(now: number): void {
    const s = this.s;
    let next = Number.POSITIVE_INFINITY;
    const consider = (x: number) => {
      if (x > now && x < next) next = x;
    };
    for (const t of this.talkers.values()) {
      if (t.on && t.since !== null) consider(t.since + s.trigger_s * 1000);
      if (!t.on && t.offAt !== null) consider(t.offAt + s.gap_s * 1000);
    }
    consider(this.lastOff + s.silence_s * 1000);
    consider(this.pingPongUntil);
    if (this.current) consider(this.current.sinceMs + s.min_dwell_s * 1000);
    if (this.farEndSince !== null && s.far_end) consider(this.farEndSince + s.far_end.delay_s * 1000);
    if (this.pausedUntil !== null) consider(this.pausedUntil);
    // A timer that fires no later than needed is kept: waking early only re-evaluates, which
    // changes nothing, and re-arming on every microphone event costs a timer each time.
    if (this.wake && this.wakeAt > now && this.wakeAt <= next) return;
    this.clock.clearTimeout(this.wake);
    this.wake = null;
    if (!Number.isFinite(next)) return;
    this.wakeAt = next;
    this.wake = this.clock.setTimeout(() => {
      this.wake = null;
      this.evaluate();
    }, next - now);
  }
}
