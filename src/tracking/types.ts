// The one internal event type every conference source is mapped to, and the
// insight shapes the API returns.
import type { MeetingStatus } from '../client/meeting-deltas.js';

export const KNOWN_EVENTS = [
  'conf.create.succ',
  'conf.end',
  'conf.joined',
  'conf.quit',
  'conf.play_end',
  'conf.record_end',
  // The agent's own sources (TrackingService.recordDial / recordBinding), never from a webhook.
  'dial.status',
  'identity.bound',
] as const;
export type KnownEventName = (typeof KNOWN_EVENTS)[number];

/** A conference event after validation; all times are epoch milliseconds. */
export interface ConfEvent {
  /** Event name as received; `known` is false for names we do not model. */
  event: string;
  known: boolean;
  /** Conference id: one instance of a meeting. */
  conference: string;
  call_id: string | null;
  part_uri: string | null;
  begin_time: number | null;
  end_time: number | null;
  join_time: number | null;
  quit_time: number | null;
  error: string | null;
  /** user_data exactly as received (a string, or null). */
  user_data: string | null;
  /** Fields read from user_data when it is a JSON object. */
  meeting: string | null;
  person: string | null;
  role: string | null;
  timer_requires: string[] | null;
  /** dial.status: Twilio's CallStatus. */
  status: string | null;
  /** dial.status: Twilio's SequenceNumber of the callback (null when it sent none). */
  sequence: number | null;
  /** identity.bound: the joiner bound to `person` (a part_uri, Zoom participant uuid or call id). */
  participant: string | null;
  /** identity.bound: how the binding was proven ("code"). */
  by: string | null;
  /** The event's own time: the time it reports (receipt time when it reports none). */
  at: number;
}

/** An event with none of the optional facts yet: each source fills in what it reads. */
export function bareEvent(event: string, known: boolean, conference: string, at: number): ConfEvent {
  return {
    event,
    known,
    conference,
    call_id: null,
    part_uri: null,
    begin_time: null,
    end_time: null,
    join_time: null,
    quit_time: null,
    error: null,
    user_data: null,
    meeting: null,
    person: null,
    role: null,
    timer_requires: null,
    status: null,
    sequence: null,
    participant: null,
    by: null,
    at,
  };
}

/** Twilio's CallStatus values (the `status` of recordDial). */
export const DIAL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;
export type DialStatus = (typeof DIAL_STATUSES)[number];

/**
 * One status callback of an outbound call (TrackingService.recordDial, source `twilio`).
 * Stored as a `dial.status` event: call_sid → call_id, number → part_uri, reason → error.
 * Deduplicated by call_sid + status + sequence.
 */
export interface DialRecord {
  meeting: string;
  /** Twilio's CallSid. */
  call_sid: string;
  status: DialStatus;
  /** Twilio's SequenceNumber (a number or its digits); null/absent when the callback had none. */
  sequence?: number | string | null;
  /** The roster person dialled, when the dial named one. */
  person?: string | null;
  /** The number dialled (E.164). */
  number?: string | null;
  /** Why the call failed (Twilio's SIP response code or error text), when it did. */
  reason?: string | null;
  /** When Twilio reported the status: epoch s/ms or ISO 8601 with a zone; absent = now. */
  at?: string | number | null;
}

/**
 * A joiner tied to a person by a verified code (TrackingService.recordBinding, source `identity`).
 * Stored as an `identity.bound` event; deduplicated by participant + person + at + by.
 */
export interface BindingRecord {
  meeting: string;
  /** The joiner: its part_uri, Zoom participant uuid, or call id. */
  participant: string;
  person: string;
  /** When the code was verified: epoch s/ms or ISO 8601 with a zone; absent = now. */
  at?: string | number | null;
  by: 'code';
}

/** One invitee of a scheduled meeting (from the calendar). */
export interface RosterEntry {
  person: string;
  role?: string | null;
  /** Phone numbers, desk numbers, e-mails or accounts this person may join from. */
  contacts?: string[];
}

export interface ScheduledMeeting {
  id: string;
  title?: string | null;
  start?: string | number | null;
  end?: string | number | null;
  roster?: RosterEntry[];
}

// The insight's wire shapes are declared once, with the delta logic the clients share.
export type {
  CallInsight,
  Insight,
  InsightSummary,
  InstanceInsight,
  InterruptionInsight,
  MatchedBy,
  MeetingDelta,
  MeetingState,
  MeetingStatus,
  ParticipantInsight,
} from '../client/meeting-deltas.js';
export interface MeetingSummary {
  id: string;
  status: MeetingStatus;
  actual_start_time: string | null;
  actual_end_time: string | null;
  error: string | null;
  instances: number;
  title: string | null;
  scheduled_start: string | null;
  scheduled_end: string | null;
}
