// The calendar model shared by calendar drivers (tcs, ics) and the calendar
// service. Pure types and helpers: no I/O.

/** One occurrence of a meeting as a single source sees it. */
export interface CalendarEvent {
  /** Unique within the source and stable across polls (series id + occurrence start). */
  id: string;
  /** The source's own id of the series or conference (TCS conference id, iCalendar UID). */
  source_id: string;
  title: string;
  /** ISO 8601 UTC. All-day events start at local midnight of the source's zone. */
  start: string;
  end: string;
  all_day: boolean;
  organizer: string | null;
  invitees: CalendarPerson[];
  /** Link a participant clicks to join, if the source knows one. */
  join_url: string | null;
  location: string | null;
  /** TCS: "running" / "stopped"; iCalendar sources have no live state. */
  state: 'running' | 'stopped' | null;
  /** Other links that identify the same online meeting (web client URL…), used for merging. */
  links: string[];
}

export interface CalendarPerson {
  id: string | null;
  name: string | null;
}

/** A permanent (virtual) room: a conference with no schedule. Listed, never an event. */
export interface CalendarRoom {
  id: string;
  title: string;
  join_url: string | null;
  state: 'running' | 'stopped' | null;
  owner: string | null;
}

/** What a calendar driver publishes in its device state after each successful sync. */
export interface CalendarSnapshot {
  /** ISO time of the last successful sync. */
  synced_at: string;
  /** The time range the events cover (ISO UTC). */
  window: { from: string; to: string };
  events: CalendarEvent[];
  rooms: CalendarRoom[];
}

/** Device state key under which drivers publish their snapshot. */
export const SNAPSHOT_KEY = 'calendar';

/** Name of the read-only driver action that fetches any range on demand. */
export const LIST_ACTION = 'list_events';

export function overlaps(e: { start: string; end: string }, fromMs: number, toMs: number): boolean {
  const s = Date.parse(e.start);
  const en = Date.parse(e.end);
  // Zero-length events are kept when they start inside the range.
  return en > fromMs ? s < toMs : s === en && s >= fromMs && s < toMs;
}

export function byStart(a: { start: string; end: string }, b: { start: string; end: string }): number {
  return Date.parse(a.start) - Date.parse(b.start) || Date.parse(a.end) - Date.parse(b.end);
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'()]+/gi;

/** Links found in free text (Outlook puts the join link in LOCATION or DESCRIPTION). */
export function extractLinks(text: string | null | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(URL_RE)].map((m) => m[0].replace(/[.,;:!?]+$/, ''));
}

/** Canonical form of a link for matching: lower-case scheme and host, no default port,
 * no trailing slash, no fragment; the path and query keep their case. */
export function normalizeLink(link: string): string | null {
  try {
    const u = new URL(link.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    u.hash = '';
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.host.toLowerCase()}${path}${u.search}`;
  } catch {
    return null;
  }
}

/** Canonical title for "same start and title" matching. */
export function normalizeTitle(title: string): string {
  return title.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
