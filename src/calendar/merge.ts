// Merges the events of several calendar sources into one list of meetings:
// one meeting seen in two sources (same join link, or same start and title)
// is shown once and names both sources.
import { byStart, type CalendarEvent, type CalendarPerson, type CalendarRoom, normalizeLink, normalizeTitle } from './model.js';

export interface MeetingSource {
  /** Calendar device id. */
  source: string;
  /** Event id within that source. */
  id: string;
  /** Series / conference id within that source. */
  source_id: string;
}

/** One meeting: the event fields merged over its sources, which replace the per-source ids and links. */
export interface Meeting extends Omit<CalendarEvent, 'id' | 'source_id' | 'links'> {
  /** `<source>:<event id>` of the first source (in configured source order). */
  id: string;
  sources: MeetingSource[];
  /** True when a source it came from could not be synced recently (the copy may be out of date). */
  stale: boolean;
}

export interface SourcedEvent {
  source: string;
  event: CalendarEvent;
  stale: boolean;
}

export type SourcedRoom = CalendarRoom & { source: string };

/** `sourceOrder` decides which source's title and id a merged meeting takes. */
export function mergeEvents(items: SourcedEvent[], sourceOrder: string[]): Meeting[] {
  const rank = (s: string) => {
    const i = sourceOrder.indexOf(s);
    return i < 0 ? sourceOrder.length : i;
  };
  const sorted = [...items].sort((a, b) => rank(a.source) - rank(b.source) || byStart(a.event, b.event));
  const groups: { items: SourcedEvent[]; links: Set<string>; keys: Set<string> }[] = [];
  const byLink = new Map<string, number>();
  const byKey = new Map<string, number>();
  for (const it of sorted) {
    const links = linksOf(it.event);
    const key = `${Date.parse(it.event.start)}|${normalizeTitle(it.event.title)}`;
    // A group may take at most one event per source: two bookings in one
    // calendar are two meetings even if they look alike.
    const candidates = [...links.map((l) => byLink.get(l)), byKey.get(key)].filter((g): g is number => g !== undefined);
    const target = candidates.find((g) => {
      const grp = groups[g];
      if (!grp || grp.items.some((x) => x.source === it.source)) return false;
      // A shared permanent link (a virtual room) joins only occurrences that also overlap in time.
      return grp.items.some((x) => timeOverlap(x.event, it.event)) || grp.keys.has(key);
    });
    const gi = target ?? groups.push({ items: [], links: new Set(), keys: new Set() }) - 1;
    const g = groups[gi] as (typeof groups)[number];
    g.items.push(it);
    g.keys.add(key);
    byKey.set(key, byKey.get(key) ?? gi);
    for (const l of links) {
      g.links.add(l);
      if (!byLink.has(l)) byLink.set(l, gi);
    }
  }
  return groups.map((g) => toMeeting(g.items)).sort(byStart);
}

function toMeeting(items: SourcedEvent[]): Meeting {
  const first = items[0] as SourcedEvent;
  const e = first.event;
  const pick = <T>(f: (x: CalendarEvent) => T | null): T | null => {
    for (const it of items) {
      const v = f(it.event);
      if (v !== null && v !== undefined) return v;
    }
    return null;
  };
  const invitees: CalendarPerson[] = [];
  const seen = new Set<string>();
  for (const it of items) {
    for (const p of it.event.invitees) {
      const k = (p.id ?? p.name ?? '').toLowerCase();
      if (!k || seen.has(k)) continue;
      seen.add(k);
      invitees.push(p);
    }
  }
  return {
    id: `${first.source}:${e.id}`,
    title: e.title,
    start: e.start,
    end: e.end,
    all_day: e.all_day,
    organizer: pick((x) => x.organizer),
    invitees,
    join_url: pick((x) => x.join_url),
    location: pick((x) => x.location),
    state: pick((x) => x.state),
    sources: items.map((it) => ({ source: it.source, id: it.event.id, source_id: it.event.source_id })),
    stale: items.some((it) => it.stale),
  };
}

function linksOf(e: CalendarEvent): string[] {
  const all = [e.join_url, ...e.links].filter((x): x is string => !!x);
  return [...new Set(all.map(normalizeLink).filter((x): x is string => !!x))];
}

function timeOverlap(a: CalendarEvent, b: CalendarEvent): boolean {
  return Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);
}

/** The source keys under which a meeting's lifecycle events are remembered. */
export function sourceKeys(m: Meeting): string[] {
  return m.sources.map((s) => `${s.source}:${s.id}`);
}
