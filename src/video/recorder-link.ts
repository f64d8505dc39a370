// Connects recorder devices to the room: recording follows the meeting
// (room events meeting.start / meeting.end from the calendar), the title layer
// shows the meeting's name, the lower third the current speaker (bus topic
// `director`). Every input is optional: no calendar or no director simply
// means nothing is set automatically.
import type { DirectorStatus } from '../director/types.js';
import type { AgentContext } from '../app-context.js';
import type { Cause } from '../host/contract.js';
import type { RoomEvent } from '../state/bus.js';
import { errorMessage } from '../util/errors.js';

interface RecorderPrefs {
  id: string;
  followMeeting: boolean;
  meetingTitle: boolean;
  speakerLowerThird: boolean;
}

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

  constructor(private readonly ctx: AgentContext) {
    this.prefs = Object.entries(ctx.config.devices)
      .filter(([, d]) => d.driver === 'recorder' && d.enabled !== false)
      .map(([id, d]) => ({
        id,
        followMeeting: d.follow_meeting === true,
        meetingTitle: d.meeting_title !== false,
        speakerLowerThird: d.speaker_lower_third !== false,
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
    await Promise.allSettled([...this.queues.values()]);
  }

  private onRoomEvent(e: RoomEvent): void {
    if (e.type !== 'meeting.start' && e.type !== 'meeting.end') return;
    const meeting = meetingFromEvent(e.data);
    const cause: Cause = { kind: 'calendar', name: e.type, detail: meeting.id };
    for (const p of this.prefs) {
      this.enqueue(p.id, async () => {
        if (e.type === 'meeting.start') {
          if (p.followMeeting) {
            if (this.isRecording(p.id)) await this.invoke(p.id, 'stop', {}, cause);
            await this.invoke(p.id, 'start', { meeting_id: meeting.id, title: meeting.title }, cause);
            if (meeting.id) this.meetingByDevice.set(p.id, meeting.id);
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

  private isRecording(id: string): boolean {
    return this.ctx.devices.get(id)?.state?.recording?.value === true;
  }

  private async invoke(id: string, action: string, params: Loose, cause: Cause): Promise<void> {
    if (this.ctx.devices.get(id)?.status.status !== 'online') return;
    try {
      await this.ctx.host.invoke(id, action, params, cause);
    } catch (e) {
      this.ctx.logger.warn({ device: id, action, err: errorMessage(e) }, 'recorder link: action failed');
    }
  }

  private enqueue(id: string, job: () => Promise<void>): void {
    const next = (this.queues.get(id) ?? Promise.resolve()).then(job, job);
    this.queues.set(id, next);
  }
}
