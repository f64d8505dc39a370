// Connects recorder devices to the room: recording follows the meeting
// (room events meeting.start / meeting.end from the calendar), the title layer
// shows the meeting's name, the lower third the current speaker (bus topic
// `director`). Every input is optional: no calendar or no director simply
// means nothing is set automatically.
import type { DirectorStatus } from '../director/types.js';
import type { AgentContext } from '../app-context.js';
import type { Cause } from '../host/contract.js';
import type { RoomEvent } from '../state/bus.js';
import { Backoff } from '../transport/backoff.js';
import type { TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';

interface RecorderPrefs {
  id: string;
  followMeeting: boolean;
  meetingTitle: boolean;
  speakerLowerThird: boolean;
  retryMinMs: number;
  retryMaxMs: number;
  alertAfterMs: number;
}

/** A meeting a recorder follows: start attempts retried until it records or the meeting ends. */
interface Following {
  meeting: { id?: string; title?: string };
  backoff: Backoff;
  attempts: number;
  retryTimer: TimerHandle | null;
  alertTimer: TimerHandle | null;
  lastError: string | null;
}

/** Defaults of the recorder keys the link reads (drivers/recorder/schema.ts has the same). */
export const FOLLOW_DEFAULTS = { retryMinMs: 2000, retryMaxMs: 30_000, alertAfterS: 30 } as const;

const num = (v: unknown, def: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : def);

type Loose = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Meeting id and title from a meeting event, whatever the exact field names. */
export function meetingFromEvent(data: Loose): { id?: string; title?: string } {
  const m = (data.meeting && typeof data.meeting === 'object' ? data.meeting : data) as Loose;
  return {
    id: str(m.id) ?? str(m.meeting_id) ?? str(data.meeting_id) ?? str(data.id),
    title: str(m.title) ?? str(m.name) ?? str(m.subject) ?? str(data.title),
  };
}

/**
 * The current speaker from a `director` bus message: the talker whose
 * microphone drives the current shot (`{status: DirectorStatus}`). null = no
 * speaker (overview, no shot: clear the lower third), undefined = the message
 * says nothing about it (e.g. `{decision}`, which a status push follows).
 */
export function speakerFromDirector(data: unknown): string | null | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const status = (data as { status?: Pick<DirectorStatus, 'shot' | 'talkers'> }).status;
  if (!status || typeof status !== 'object') return undefined;
  const mic = status.shot?.mic;
  if (!mic) return null;
  return str(status.talkers?.find((t) => t.mic === mic)?.name) ?? null;
}

export class RecorderLink {
  private readonly prefs: RecorderPrefs[];
  private readonly queues = new Map<string, Promise<void>>();
  private readonly offs: (() => void)[] = [];
  private lastSpeaker: string | null | undefined = undefined;
  private meetingByDevice = new Map<string, string>();
  private readonly following = new Map<string, Following>();

  constructor(private readonly ctx: AgentContext) {
    this.prefs = Object.entries(ctx.config.devices)
      .filter(([, d]) => d.driver === 'recorder' && d.enabled !== false)
      .map(([id, d]) => ({
        id,
        followMeeting: d.follow_meeting === true,
        meetingTitle: d.meeting_title !== false,
        speakerLowerThird: d.speaker_lower_third !== false,
        retryMinMs: num(d.follow_retry_min_ms, FOLLOW_DEFAULTS.retryMinMs),
        retryMaxMs: num(d.follow_retry_max_ms, FOLLOW_DEFAULTS.retryMaxMs),
        alertAfterMs: num(d.not_recording_alert_s, FOLLOW_DEFAULTS.alertAfterS) * 1000,
      }));
  }

  get size(): number {
    return this.prefs.length;
  }

  start(): void {
    if (this.prefs.length === 0) return;
    this.offs.push(this.ctx.events.on((e) => this.onRoomEvent(e)));
    this.offs.push(
      this.ctx.bus.subscribe((m) => {
        if (m.topic === 'director') this.onDirector(m.data);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    for (const id of [...this.following.keys()]) this.unfollow(id);
    await Promise.allSettled([...this.queues.values()]);
  }

  private onRoomEvent(e: RoomEvent): void {
    if (e.type !== 'meeting.start' && e.type !== 'meeting.end') return;
    const meeting = meetingFromEvent(e.data);
    const cause: Cause = { kind: 'calendar', name: e.type, detail: meeting.id };
    for (const p of this.prefs) {
      // A new meeting replaces the one followed; an end stops the retries only for its own meeting.
      const followed = this.following.get(p.id)?.meeting.id;
      if (p.followMeeting && (e.type === 'meeting.start' || !meeting.id || !followed || followed === meeting.id))
        this.unfollow(p.id);
      this.enqueue(p.id, async () => {
        if (e.type === 'meeting.start') {
          if (p.followMeeting) {
            if (this.isRecording(p.id)) await this.invoke(p.id, 'stop', {}, cause);
            this.follow(p, meeting);
            await this.attemptStart(p, cause);
          }
          if (p.meetingTitle && meeting.title)
            await this.invoke(p.id, 'graphic', { layer: 'title', text: meeting.title, preview: false }, cause);
        } else {
          const current = this.meetingByDevice.get(p.id);
          if (p.followMeeting && this.isRecording(p.id) && (!meeting.id || !current || current === meeting.id)) {
            await this.invoke(p.id, 'stop', {}, cause);
            this.meetingByDevice.delete(p.id);
          }
          if (p.meetingTitle) await this.invoke(p.id, 'graphic', { layer: 'title', clear: true, preview: false }, cause);
        }
      });
    }
  }

  /** Starts following a meeting: the alert timer runs from now. */
  private follow(p: RecorderPrefs, meeting: { id?: string; title?: string }): void {
    const f: Following = {
      meeting,
      backoff: new Backoff({ initialMs: p.retryMinMs, maxMs: p.retryMaxMs, jitter: 0.1 }),
      attempts: 0,
      retryTimer: null,
      alertTimer: null,
      lastError: null,
    };
    f.alertTimer = this.ctx.clock.setTimeout(() => {
      f.alertTimer = null;
      if (this.following.get(p.id) !== f || this.isRecording(p.id)) return;
      const reason =
        `not recording ${p.alertAfterMs / 1000} s after meeting ${meeting.id ?? '(no id)'} started` +
        ` (${f.attempts} start attempts; retrying while the meeting runs)${f.lastError ? `: ${f.lastError}` : ''}`;
      this.ctx.logger.warn({ device: p.id, meeting: meeting.id }, reason);
      // Room event → the alerts feature raises `recorder_failure` (cleared by `recorder.started`).
      this.ctx.events.emit({
        type: 'recorder.alert',
        at: new Date(this.ctx.clock.now()).toISOString(),
        data: { device: p.id, reason, meeting_id: meeting.id ?? null, attempts: f.attempts },
      });
    }, p.alertAfterMs);
    this.following.set(p.id, f);
  }

  private unfollow(id: string): void {
    const f = this.following.get(id);
    if (!f) return;
    this.ctx.clock.clearTimeout(f.retryTimer);
    this.ctx.clock.clearTimeout(f.alertTimer);
    this.following.delete(id);
  }

  /** One start attempt for the followed meeting; a failure is retried with backoff while the meeting runs. */
  private async attemptStart(p: RecorderPrefs, cause: Cause): Promise<void> {
    const f = this.following.get(p.id);
    if (!f) return;
    if (this.isRecording(p.id)) {
      this.settle(p.id, f);
      return;
    }
    f.attempts++;
    const attemptCause = f.attempts === 1 ? cause : { ...cause, detail: `${f.meeting.id ?? ''} (retry ${f.attempts - 1})` };
    const err = await this.invoke(p.id, 'start', { meeting_id: f.meeting.id, title: f.meeting.title }, attemptCause);
    if (this.following.get(p.id) !== f) return; // the meeting ended meanwhile
    if (err === null) {
      this.settle(p.id, f);
      return;
    }
    f.lastError = err;
    const delay = f.backoff.next();
    this.ctx.logger.warn(
      { device: p.id, meeting: f.meeting.id, attempt: f.attempts, retry_in_ms: delay, err },
      'recorder link: start failed; retrying while the meeting runs',
    );
    f.retryTimer = this.ctx.clock.setTimeout(() => {
      f.retryTimer = null;
      this.enqueue(p.id, () => this.attemptStart(p, cause));
    }, delay);
  }

  /** Recording: no more retries; the alert timer has nothing left to say. */
  private settle(id: string, f: Following): void {
    if (f.meeting.id) this.meetingByDevice.set(id, f.meeting.id);
    this.ctx.clock.clearTimeout(f.retryTimer);
    this.ctx.clock.clearTimeout(f.alertTimer);
    f.retryTimer = null;
    f.alertTimer = null;
  }

  private onDirector(data: unknown): void {
    const speaker = speakerFromDirector(data);
    if (speaker === undefined || speaker === this.lastSpeaker) return;
    this.lastSpeaker = speaker;
    const cause: Cause = { kind: 'director', detail: speaker ?? 'no speaker' };
    for (const p of this.prefs.filter((x) => x.speakerLowerThird)) {
      const params = speaker
        ? { layer: 'lower_third', text: speaker, preview: false }
        : { layer: 'lower_third', clear: true, preview: false };
      this.enqueue(p.id, () => this.invoke(p.id, 'graphic', params, cause));
    }
  }

  /** Recorders that follow a meeting that is running now (from its meeting.start until its meeting.end). */
  inMeeting(): string[] {
    return [...this.following.keys()];
  }

  private isRecording(id: string): boolean {
    return this.ctx.devices.get(id)?.state?.recording?.value === true;
  }

  /** Runs an action of the recorder; null when it succeeded, else why not. */
  private async invoke(id: string, action: string, params: Loose, cause: Cause): Promise<string | null> {
    const status = this.ctx.devices.get(id)?.status;
    if (status?.status !== 'online') return `device ${id} is ${status?.status ?? 'missing'}`;
    try {
      await this.ctx.host.invoke(id, action, params, cause);
      return null;
    } catch (e) {
      const err = errorMessage(e);
      if (action !== 'start') this.ctx.logger.warn({ device: id, action, err }, 'recorder link: action failed');
      return err;
    }
  }

  private enqueue(id: string, job: () => Promise<unknown>): void {
    const run = async () => {
      await job();
    };
    const next = (this.queues.get(id) ?? Promise.resolve()).then(run, run);
    this.queues.set(id, next);
  }
}
