// Validation of the voice-conference callbacks (the format in docs/tracking.md,
// "POST /hooks/conference") into
// ConfEvent. Pure: values in, typed events or a precise error out.
import { AgentError } from '../util/errors.js';
import { type BindingRecord, bareEvent, type ConfEvent, DIAL_STATUSES, type DialRecord, type KnownEventName } from './types.js';

const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);
const ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;
const NUMERIC_RE = /^\d+(\.\d+)?$/;
const MAX_ID = 256;
const MAX_TEXT = 4096;

/** A malformed event: says which event of the batch and which field. */
export class EventInputError extends AgentError {
  constructor(
    readonly index: number,
    readonly field: string,
    reason: string,
  ) {
    super('INVALID_PARAMS', `event ${index}: ${field}: ${reason}`, { index, field, reason });
    this.name = 'EventInputError';
  }
}

/**
 * Epoch seconds, epoch milliseconds (numbers or digit strings) or ISO 8601
 * with a zone → epoch ms. Numbers below 1e11 are seconds (1e11 s is year 5138,
 * 1e11 ms is 1973, so the ranges cannot be confused for real times).
 */
export function parseTime(v: unknown): number | undefined {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    ms = Math.abs(v) < 1e11 ? v * 1000 : v;
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (NUMERIC_RE.test(s)) return parseTime(Number(s));
    if (!ISO_RE.test(s)) return undefined;
    ms = Date.parse(s.replace(' ', 'T'));
    if (Number.isNaN(ms)) return undefined;
  } else {
    return undefined;
  }
  ms = Math.round(ms);
  return ms >= MIN_MS && ms <= MAX_MS ? ms : undefined;
}

interface UserData {
  meeting: string | null;
  person: string | null;
  role: string | null;
  timer_requires: string[] | null;
}

const NO_USER_DATA: UserData = { meeting: null, person: null, role: null, timer_requires: null };

/** user_data may be any string: read our JSON keys when it is a JSON object, ignore it otherwise. */
export function parseUserData(raw: string | null): UserData {
  if (raw === null) return NO_USER_DATA;
  const s = raw.trim();
  if (!s.startsWith('{')) return NO_USER_DATA;
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return NO_USER_DATA;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return NO_USER_DATA;
  const r = o as Record<string, unknown>;
  const text = (v: unknown): string | null =>
    (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v)) ? String(v).trim() : null;
  const req = Array.isArray(r.timer_requires)
    ? r.timer_requires.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim())
    : null;
  return { meeting: text(r.meeting), person: text(r.person), role: text(r.role), timer_requires: req };
}

type FieldKind = 'time' | 'time?' | 'id';
type WebhookEventName = Exclude<KnownEventName, SideEventName>;
const FIELDS: Record<WebhookEventName, Record<string, FieldKind>> = {
  'conf.create.succ': { begin_time: 'time' },
  'conf.end': { begin_time: 'time?', end_time: 'time?' },
  'conf.joined': { join_time: 'time', call_id: 'id', part_uri: 'id' },
  'conf.quit': { join_time: 'time', quit_time: 'time', call_id: 'id', part_uri: 'id' },
  'conf.play_end': { begin_time: 'time', end_time: 'time' },
  'conf.record_end': { begin_time: 'time', end_time: 'time' },
};
// The field lists as arrays once, not an Object.entries per event.
const FIELD_LIST = new Map<string, [string, FieldKind][]>(Object.entries(FIELDS).map(([name, f]) => [name, Object.entries(f)]));

/** A non-empty string field, trimmed, at most `max` characters. */
function requiredText(o: Record<string, unknown>, field: string, max: number, index: number): string {
  const v = o[field];
  if (typeof v !== 'string' || v.trim() === '') throw new EventInputError(index, field, 'expected a non-empty string');
  if (v.length > max) throw new EventInputError(index, field, `longer than ${max} characters`);
  return v.trim();
}

// A participant sends the same user_data with every join and quit: parse each distinct text once.
// Results are shared between events (nothing mutates them). When full, the oldest text is dropped
// (Map order is insertion order), so a running agent holds exactly the cap (~180 bytes an entry
// for the soak's texts) instead of climbing to it and starting over.
const userDataMemo = new Map<string, UserData>();
const USER_DATA_MEMO = 4096;
/** Distinct user_data texts memoised now, and the cap. */
export function userDataMemoSize(): { count: number; cap: number } {
  return { count: userDataMemo.size, cap: USER_DATA_MEMO };
}
function userDataOf(raw: string | null): UserData {
  if (raw === null) return NO_USER_DATA;
  let u = userDataMemo.get(raw);
  if (u === undefined) {
    if (userDataMemo.size >= USER_DATA_MEMO) userDataMemo.delete(userDataMemo.keys().next().value as string);
    u = parseUserData(raw);
    userDataMemo.set(raw, u);
  }
  return u;
}

/**
 * One callback object → ConfEvent. Unknown event names are kept (known =
 * false) so a platform upgrade never makes us refuse, and thus lose, a
 * delivery; they need only `event` and `id`. Extra fields are ignored.
 */
export function parseConfEvent(input: unknown, index: number, receivedAt: number): ConfEvent {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new EventInputError(index, '(event)', 'expected a JSON object');
  }
  const o = input as Record<string, unknown>;
  const name = requiredText(o, 'event', 64, index);
  const conference = requiredText(o, 'id', MAX_ID, index);
  checkNotSide(conference, index, 'id');
  let userData: string | null;
  if (o.user_data === undefined || o.user_data === null) userData = null;
  else if (typeof o.user_data === 'string') userData = o.user_data;
  else if (typeof o.user_data === 'object') userData = JSON.stringify(o.user_data);
  else throw new EventInputError(index, 'user_data', 'expected a string or null');
  if (userData !== null && userData.length > MAX_TEXT) {
    throw new EventInputError(index, 'user_data', `longer than ${MAX_TEXT} characters`);
  }
  const fields = FIELD_LIST.get(name);
  const ev = bareEvent(name, fields !== undefined, conference, receivedAt);
  ev.user_data = userData;
  const u = userDataOf(userData);
  ev.meeting = u.meeting;
  ev.person = u.person;
  ev.role = u.role;
  ev.timer_requires = u.timer_requires;
  if (fields === undefined) return ev;
  const out = ev as unknown as Record<string, unknown>;
  for (const [field, kind] of fields) {
    if (kind === 'id') {
      out[field] = requiredText(o, field, MAX_ID, index);
      continue;
    }
    const v = o[field];
    if (v === undefined || v === null) {
      if (kind === 'time?') continue;
      throw new EventInputError(index, field, 'required time is missing');
    }
    const t = parseTime(v);
    if (t === undefined) {
      throw new EventInputError(
        index,
        field,
        `expected epoch seconds, epoch milliseconds or an ISO 8601 time with a zone (found ${JSON.stringify(v).slice(0, 80)})`,
      );
    }
    out[field] = t;
  }
  if (name === 'conf.end' || name === 'conf.quit') {
    // conf.end: the conference failed or ended badly; conf.quit: the call was lost rather than left.
    if (o.error !== undefined && o.error !== null && typeof o.error !== 'string') {
      throw new EventInputError(index, 'error', 'expected a string or null');
    }
    ev.error = typeof o.error === 'string' && o.error.trim() !== '' ? o.error.slice(0, MAX_TEXT) : null;
  }
  if (name === 'conf.end') {
    if (ev.error === null && ev.end_time === null) {
      throw new EventInputError(index, 'end_time', 'required when error is not set');
    }
    if ((ev.begin_time === null) !== (ev.end_time === null) && ev.error === null) {
      throw new EventInputError(index, 'begin_time', 'required when end_time is set');
    }
  }
  if (ev.quit_time !== null && ev.join_time !== null && ev.quit_time < ev.join_time) {
    throw new EventInputError(index, 'quit_time', 'earlier than join_time');
  }
  if (ev.end_time !== null && ev.begin_time !== null && ev.end_time < ev.begin_time) {
    throw new EventInputError(index, 'end_time', 'earlier than begin_time');
  }
  ev.at = ownTime(ev, receivedAt);
  return ev;
}

// ---- the agent's own sources: dial-outs and identity bindings ---------------

/** Events the agent records itself (never accepted from a webhook). */
export type SideEventName = 'dial.status' | 'identity.bound';
const SIDE_PREFIX: Record<SideEventName, string> = { 'dial.status': 'twilio:', 'identity.bound': 'identity:' };

/** True for the events the agent records itself (recordDial, recordBinding). */
export const isSideEvent = (ev: { event: string }): boolean => ev.event === 'dial.status' || ev.event === 'identity.bound';

/**
 * Side events are logged under a pseudo conference per meeting and source
 * (`twilio:<meeting>`, `identity:<meeting>`): that row files them under their
 * meeting and keeps their duplicate keys together. It is not an instance.
 */
export const sideConference = (name: SideEventName, meeting: string): string => `${SIDE_PREFIX[name]}${meeting}`;

/** A webhook conference id may not take a pseudo conference's name (it would be filed with the side events). */
function checkNotSide(conference: string, index: number, field: string): void {
  if (conference.startsWith('twilio:') || conference.startsWith('identity:')) {
    throw new EventInputError(index, field, 'the prefixes "twilio:" and "identity:" are reserved for the agent\'s own events');
  }
}
export { checkNotSide as checkConferenceId };

function optionalText(o: Record<string, unknown>, field: string, max: number): string | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new EventInputError(0, field, 'expected a string or null');
  if (v.length > max) throw new EventInputError(0, field, `longer than ${max} characters`);
  const t = v.trim();
  return t === '' ? null : t;
}

function sideTime(o: Record<string, unknown>, receivedAt: number): number {
  const v = o.at;
  if (v === undefined || v === null) return receivedAt;
  const t = parseTime(v);
  if (t === undefined) {
    throw new EventInputError(0, 'at', 'expected epoch seconds, epoch milliseconds or an ISO 8601 time with a zone');
  }
  return t;
}

function record(input: unknown): Record<string, unknown> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new EventInputError(0, '(record)', 'expected an object');
  return input as Record<string, unknown>;
}

const DIAL_STATUS_SET: ReadonlySet<string> = new Set(DIAL_STATUSES);

/** A dial-out status (recordDial) → `dial.status` event. Throws EventInputError naming the field. */
export function parseDial(input: DialRecord | unknown, receivedAt: number): ConfEvent {
  const o = record(input);
  const meeting = requiredText(o, 'meeting', MAX_ID, 0);
  const ev = bareEvent('dial.status', true, sideConference('dial.status', meeting), receivedAt);
  ev.meeting = meeting;
  ev.call_id = requiredText(o, 'call_sid', MAX_ID, 0);
  const status = requiredText(o, 'status', 32, 0);
  if (!DIAL_STATUS_SET.has(status)) throw new EventInputError(0, 'status', `expected one of ${DIAL_STATUSES.join(', ')}`);
  ev.status = status;
  const seq = o.sequence;
  if (seq !== undefined && seq !== null) {
    const n = typeof seq === 'string' && /^\d{1,15}$/.test(seq.trim()) ? Number(seq) : seq;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new EventInputError(0, 'sequence', 'expected a whole number ≥ 0 (Twilio SequenceNumber)');
    }
    ev.sequence = n;
  }
  ev.person = optionalText(o, 'person', MAX_ID);
  ev.part_uri = optionalText(o, 'number', MAX_ID);
  ev.error = optionalText(o, 'reason', MAX_TEXT);
  ev.at = sideTime(o, receivedAt);
  return ev;
}

/** A verified binding (recordBinding) → `identity.bound` event. Throws EventInputError naming the field. */
export function parseBinding(input: BindingRecord | unknown, receivedAt: number): ConfEvent {
  const o = record(input);
  const meeting = requiredText(o, 'meeting', MAX_ID, 0);
  const ev = bareEvent('identity.bound', true, sideConference('identity.bound', meeting), receivedAt);
  ev.meeting = meeting;
  ev.participant = requiredText(o, 'participant', MAX_ID, 0);
  ev.person = requiredText(o, 'person', MAX_ID, 0);
  if (o.by !== 'code') throw new EventInputError(0, 'by', 'expected "code"');
  ev.by = 'code';
  ev.at = sideTime(o, receivedAt);
  return ev;
}

/** The record as logged: only the fields we read, in a fixed order (a caller's extra fields are not stored). */
export function dialText(ev: ConfEvent): Record<string, unknown> {
  return {
    meeting: ev.meeting,
    call_sid: ev.call_id,
    status: ev.status,
    sequence: ev.sequence,
    person: ev.person,
    number: ev.part_uri,
    reason: ev.error,
    at: new Date(ev.at).toISOString(),
  };
}
export function bindingText(ev: ConfEvent): Record<string, unknown> {
  return {
    meeting: ev.meeting,
    participant: ev.participant,
    person: ev.person,
    at: new Date(ev.at).toISOString(),
    by: ev.by,
  };
}

/** The time an event reports about itself; a failed conf.end reports none, so its receipt time stands in. */
export function ownTime(ev: ConfEvent, receivedAt: number): number {
  switch (ev.event) {
    case 'conf.create.succ':
      return ev.begin_time ?? receivedAt;
    case 'conf.joined':
      return ev.join_time ?? receivedAt;
    case 'conf.quit':
      return ev.quit_time ?? receivedAt;
    default:
      return ev.end_time ?? ev.begin_time ?? receivedAt;
  }
}

/**
 * The business key that makes two deliveries the same event: name,
 * participant, call and every time field (keys are kept per conference,
 * dedup.ts) — never the receipt time or a delivery id. A 53-bit hash
 * of the fields, stored as an INTEGER: hashing the fields in place needs no key
 * text, no Buffer and no crypto call per event (SHA-1 of the key text cost
 * ~2 µs of a batch event's ~16), and SQLite's index entries are smaller.
 * Two distinct events of one conference collide with odds ~n²/2⁵⁴ (n = its
 * events: 10⁻⁹ at 10,000); a collision would count the second as a duplicate.
 */
export function dedupKey(ev: ConfEvent, raw: unknown): number {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  mixText(ev.event);
  // An unknown event has no fields we understand: its whole content is its identity.
  if (!ev.known) {
    mixText(canonical(raw));
    return finish();
  }
  // Twilio repeats a status callback with the same CallSid, CallStatus and SequenceNumber.
  if (ev.event === 'dial.status') {
    mixText(ev.call_id);
    mixText(ev.status);
    mixTime(ev.sequence);
    return finish();
  }
  if (ev.event === 'identity.bound') {
    mixText(ev.participant);
    mixText(ev.person);
    mixText(ev.by);
    mixTime(ev.at);
    return finish();
  }
  mixText(ev.call_id);
  mixText(ev.part_uri);
  mixText(ev.person);
  mixTime(ev.begin_time);
  mixTime(ev.end_time);
  mixTime(ev.join_time);
  mixTime(ev.quit_time);
  // A failed conf.end has no times at all: its error text tells deliveries apart.
  mixText(ev.error);
  return finish();
}

// Two 32-bit multiply-xor lanes (cyrb53's). Each field is written as a tag or
// length word and then its content, so the field sequence maps to exactly one
// word sequence: equal keys need equal fields, up to a hash collision.
let h1 = 0;
let h2 = 0;
function mix(w: number): void {
  h1 = Math.imul(h1 ^ w, 2654435761);
  h2 = Math.imul(h2 ^ w, 1597334677);
}
function mixText(s: string | null): void {
  if (s === null) {
    mix(0);
    return;
  }
  mix(s.length + 1);
  for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
}
/** Times are whole milliseconds in 2000..2200 (parseTime), so two 32-bit halves hold them exactly. */
function mixTime(t: number | null): void {
  if (t === null) {
    mix(0);
    return;
  }
  mix(1);
  mix(t % 4294967296);
  mix(Math.floor(t / 4294967296));
}
function finish(): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (h2 & 0x1fffff) + (h1 >>> 0);
}

/** JSON with object keys sorted, so key order in a redelivery does not matter. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
