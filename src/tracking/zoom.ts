// Zoom meeting webhooks (Zoom developer docs, "Using webhooks": x-zm-signature, endpoint.url_validation): signature check over the raw body,
// URL validation, and mapping of meeting/participant events to ConfEvent. Pure.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkConferenceId, EventInputError, parseTime } from './parse.js';
import { bareEvent, type ConfEvent } from './types.js';

export function zoomSignature(secret: string, timestamp: string, rawBody: Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

export type ZoomCheck = { ok: true } | { ok: false; reason: string };

/** Checks x-zm-signature and the timestamp skew; compares in constant time. */
export function verifyZoom(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  secret: string,
  nowMs: number,
  maxSkewS: number,
): ZoomCheck {
  const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
  const sig = one(headers['x-zm-signature']);
  const ts = one(headers['x-zm-request-timestamp']);
  if (!sig || !ts) return { ok: false, reason: 'missing x-zm-signature or x-zm-request-timestamp' };
  if (!/^\d{1,13}$/.test(ts)) return { ok: false, reason: 'x-zm-request-timestamp is not epoch seconds' };
  const skew = Math.abs(nowMs / 1000 - Number(ts));
  if (skew > maxSkewS) return { ok: false, reason: `stale request: timestamp is ${Math.round(skew)} s from our clock` };
  const want = Buffer.from(zoomSignature(secret, ts, rawBody));
  const got = Buffer.from(sig);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}

export function zoomUrlValidation(plainToken: string, secret: string): { plainToken: string; encryptedToken: string } {
  return { plainToken, encryptedToken: createHmac('sha256', secret).update(plainToken).digest('hex') };
}

// Zoom event name → our event name. A Map: a client-chosen name such as
// "toString" or "__proto__" must find nothing, not an Object.prototype member.
const ZOOM_EVENTS = new Map<string, string>([
  ['meeting.started', 'conf.create.succ'],
  ['meeting.ended', 'conf.end'],
  ['meeting.participant_joined', 'conf.joined'],
  ['meeting.participant_left', 'conf.quit'],
]);

export type ZoomMapped =
  | { kind: 'url_validation'; plainToken: string }
  | { kind: 'events'; events: ConfEvent[] }
  | { kind: 'ignored'; event: string };

/**
 * Zoom body → internal events. The meeting `uuid` is the instance, the
 * meeting `id` the meeting. A join is a call keyed by participant and join
 * time; a `participant_left` without join_time has no call id and is paired
 * with that participant's latest earlier join when the insight is built.
 */
export function mapZoom(body: unknown, receivedAt: number): ZoomMapped {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new EventInputError(0, '(body)', 'expected a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.event !== 'string') throw new EventInputError(0, 'event', 'expected a string');
  const payload = (b.payload ?? {}) as Record<string, unknown>;
  if (b.event === 'endpoint.url_validation') {
    if (typeof payload.plainToken !== 'string' || payload.plainToken === '') {
      throw new EventInputError(0, 'payload.plainToken', 'expected a non-empty string');
    }
    return { kind: 'url_validation', plainToken: payload.plainToken };
  }
  const name = ZOOM_EVENTS.get(b.event);
  if (!name) return { kind: 'ignored', event: b.event };
  const obj = payload.object as Record<string, unknown> | undefined;
  if (!obj || typeof obj !== 'object') throw new EventInputError(0, 'payload.object', 'expected an object');
  const uuid = obj.uuid;
  if (typeof uuid !== 'string' || uuid === '') throw new EventInputError(0, 'payload.object.uuid', 'expected a non-empty string');
  checkConferenceId(uuid, 0, 'payload.object.uuid');
  const meetingId = typeof obj.id === 'number' || (typeof obj.id === 'string' && obj.id !== '') ? String(obj.id) : null;
  const eventTs = b.event_ts === undefined ? undefined : parseTime(b.event_ts);
  const time = (field: string, v: unknown): number | null => {
    if (v === undefined || v === null || v === '') return null;
    const t = parseTime(v);
    if (t === undefined) throw new EventInputError(0, field, 'expected a time');
    return t;
  };
  const ev: ConfEvent = { ...bareEvent(name, true, uuid, receivedAt), meeting: meetingId };
  if (name === 'conf.create.succ' || name === 'conf.end') {
    ev.begin_time = time('payload.object.start_time', obj.start_time);
    if (name === 'conf.create.succ') {
      ev.begin_time ??= eventTs ?? null;
      if (ev.begin_time === null) throw new EventInputError(0, 'payload.object.start_time', 'required time is missing');
      ev.at = ev.begin_time;
    } else {
      ev.end_time = time('payload.object.end_time', obj.end_time) ?? eventTs ?? null;
      if (ev.end_time === null) throw new EventInputError(0, 'payload.object.end_time', 'required time is missing');
      ev.at = ev.end_time;
    }
    return { kind: 'events', events: [ev] };
  }
  const p = obj.participant as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') throw new EventInputError(0, 'payload.object.participant', 'expected an object');
  const pick = (...vals: unknown[]) => vals.find((v): v is string => typeof v === 'string' && v.trim() !== '');
  const email = pick(p.email);
  const who = email?.trim().toLowerCase() ?? pick(p.participant_uuid, p.user_id, p.id, p.user_name);
  if (!who) throw new EventInputError(0, 'payload.object.participant', 'needs email, participant_uuid, user_id or user_name');
  ev.part_uri = who;
  ev.join_time = time('payload.object.participant.join_time', p.join_time);
  if (name === 'conf.joined') {
    ev.join_time ??= eventTs ?? null;
    if (ev.join_time === null) throw new EventInputError(0, 'payload.object.participant.join_time', 'required time is missing');
    ev.at = ev.join_time;
  } else {
    ev.quit_time = time('payload.object.participant.leave_time', p.leave_time) ?? eventTs ?? null;
    if (ev.quit_time === null) throw new EventInputError(0, 'payload.object.participant.leave_time', 'required time is missing');
    if (ev.join_time !== null && ev.join_time > ev.quit_time) ev.join_time = null;
    ev.at = ev.quit_time;
  }
  ev.call_id = ev.join_time === null ? null : `${who}@${ev.join_time}`;
  return { kind: 'events', events: [ev] };
}
