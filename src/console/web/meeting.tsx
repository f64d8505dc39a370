// Today's calendar, and the current meeting's insight: participants, their
// calls, the timer ticking live, and the meeting's event stream beside it.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MeetingFollow } from '../../client/client.js';
import { type Insight, isMeetingDelta } from '../../client/meeting-deltas.js';
import { MeetingControls, MeetingTimeline, ParticipantActions } from './meeting-controls.js';
import { Badge, Card, describeError, duration, time, useConsole, useTick, useTopic } from './shared.js';

interface CalendarMeeting {
  id: string;
  title: string;
  start: string;
  end: string;
  all_day: boolean;
  organizer: string | null;
  stale: boolean;
}
interface CalendarView {
  meetings: CalendarMeeting[];
  time_zone?: string;
  stale: boolean;
  synced_at: string | null;
  feed: { type: string; at: string; title: string }[];
}

interface Summary {
  id: string;
  status: string;
  title: string | null;
  actual_start_time: string | null;
  scheduled_start: string | null;
}
/** An insight and the local time it arrived: the timer ticks from there, whatever the agent's clock says. */
type Live = { insight: Insight; receivedAt: number; seq: number };
interface LoggedEvent {
  seq: number;
  event: string;
  time: string;
  known: boolean;
  duplicate: boolean;
  late: boolean;
  data: { call_id?: string; part_uri?: string; status?: string; person?: string; participant?: string };
}

/** Events shown beside the insight: the latest by event time. */
const SHOWN_EVENTS = 50;
const byTime = (a: LoggedEvent, b: LoggedEvent) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq);

function reduceCalendar(prev: CalendarView | undefined, e: { data: unknown }): CalendarView {
  const d = e.data as {
    type: string;
    at?: string;
    meetings?: CalendarMeeting[];
    stale?: boolean;
    synced_at?: string | null;
    time_zone?: string;
  };
  if (d.type === 'calendar.updated') {
    const meetings = [...(d.meetings ?? [])].sort(
      (x, y) => Number(y.all_day) - Number(x.all_day) || x.start.localeCompare(y.start),
    );
    return { feed: prev?.feed ?? [], meetings, stale: !!d.stale, synced_at: d.synced_at ?? null, time_zone: d.time_zone };
  }
  const m = (d as { meeting?: { title?: string } }).meeting;
  const item = { type: d.type, at: d.at ?? new Date().toISOString(), title: m?.title ?? '' };
  return {
    time_zone: prev?.time_zone,
    meetings: prev?.meetings ?? [],
    stale: prev?.stale ?? false,
    synced_at: prev?.synced_at ?? null,
    feed: [item, ...(prev?.feed ?? [])].slice(0, 20),
  };
}

interface MeetingsView {
  summaries: Summary[];
}

/** The list of tracked meetings: the topic's snapshot, then each delta's summary (status, start). */
function reduceMeetings(prev: MeetingsView | undefined, e: { snapshot: boolean; data: unknown }): MeetingsView {
  if (e.snapshot) return { summaries: (e.data as { meetings: Summary[] }).meetings };
  if (!isMeetingDelta(e.data)) return prev ?? { summaries: [] };
  const { id, summary: s } = e.data;
  const summaries = prev?.summaries ?? [];
  const old = summaries.find((x) => x.id === id);
  const next: Summary = {
    id,
    status: s.status,
    title: old?.title ?? null,
    actual_start_time: s.actual_start_time,
    scheduled_start: old?.scheduled_start ?? null,
  };
  return { summaries: old ? summaries.map((x) => (x.id === id ? next : x)) : [next, ...summaries] };
}

/** HH:MM in the room's time zone (the calendar's), whatever the laptop's zone is. */
function hm(iso: string, timeZone: string | undefined): string {
  try {
    return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone });
  } catch {
    return time(iso).slice(0, 5);
  }
}

export function MeetingPanel() {
  const calendar = useTopic('calendar', reduceCalendar);
  const meetings = useTopic('meetings', reduceMeetings);
  const [chosen, setChosen] = useState<string | null>(null);
  const summaries = meetings.state?.summaries ?? [];
  const current = chosen ?? summaries.find((s) => s.status === 'live')?.id ?? summaries[0]?.id ?? null;
  return (
    <Card id="meeting" title="Calendar and meeting">
      <div class="two">
        <div>
          <h3>Today{calendar.state?.time_zone ? ` (${calendar.state.time_zone})` : ''}</h3>
          {calendar.available === false && <p class="muted">No calendar configured.</p>}
          {calendar.state?.stale && <p class="warn">The calendar copy may be out of date (a source is not syncing).</p>}
          <ul class="calendar">
            {calendar.state?.meetings.map((m) => (
              <li key={m.id} class={Date.parse(m.start) <= Date.now() && Date.now() < Date.parse(m.end) ? 'now' : ''}>
                <span class="when">
                  {m.all_day ? 'all day' : `${hm(m.start, calendar.state?.time_zone)}–${hm(m.end, calendar.state?.time_zone)}`}
                </span>{' '}
                {m.title || '(no title)'} {m.organizer && <span class="muted">· {m.organizer}</span>}
              </li>
            ))}
            {calendar.state && calendar.state.meetings.length === 0 && <li class="muted">No meetings today.</li>}
          </ul>
          {!!calendar.state?.feed.length && (
            <ul class="feed">
              {calendar.state.feed.map((f) => (
                <li key={`${f.type}${f.at}${f.title}`}>
                  {time(f.at)} {f.type} {f.title}
                </li>
              ))}
            </ul>
          )}
          <h3>Tracked meetings</h3>
          {meetings.available === false && <p class="muted">Meeting tracking is not configured.</p>}
          <ul class="meetings">
            {summaries.map((s) => (
              <li key={s.id}>
                <button type="button" class={`link ${s.id === current ? 'active' : ''}`} onClick={() => setChosen(s.id)}>
                  {s.title ?? s.id}
                </button>{' '}
                <Badge value={s.status} />
              </li>
            ))}
            {meetings.state && summaries.length === 0 && <li class="muted">No meetings in the last day.</li>}
          </ul>
        </div>
        {current && <MeetingInsight id={current} />}
      </div>
    </Card>
  );
}

function MeetingInsight({ id }: { id: string }) {
  const { client } = useConsole();
  const [live, setLive] = useState<Live | null>(null);
  const [events, setEvents] = useState<LoggedEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The insight: a snapshot, then the topic's deltas applied to it (the typed client's followMeeting,
  // which fetches a fresh snapshot after a missed delta or a reconnect).
  useEffect(() => {
    let gone = false;
    let follow: MeetingFollow | null = null;
    setLive(null);
    setError(null);
    client
      .followMeeting(
        id,
        (s) => !gone && setLive({ insight: s.insight, receivedAt: Date.now(), seq: s.seq }),
        (e) => !gone && setError(describeError(e)),
      )
      .then(
        (f) => {
          if (gone) void f.close().catch(() => undefined);
          else follow = f;
        },
        (e) => !gone && setError(describeError(e)),
      );
    return () => {
      gone = true;
      void follow?.close().catch(() => undefined);
    };
  }, [client, id]);
  // The event stream: read once when the meeting is chosen, then only what was stored since (after_seq)
  // when a delta says the meeting changed — one request at a time, never the whole log again.
  const seq = live?.seq;
  const log = useRef<{ id: string; maxSeq: number; busy: boolean; again: boolean; all: LoggedEvent[] } | null>(null);
  useEffect(() => {
    log.current = { id, maxSeq: 0, busy: false, again: false, all: [] };
    setEvents([]);
  }, [id]);
  useEffect(() => {
    const st = log.current;
    if (!st || st.id !== id || seq === undefined) return;
    if (st.busy) {
      st.again = true;
      return;
    }
    const fetchNew = (): void => {
      st.busy = true;
      st.again = false;
      const first = st.maxSeq === 0;
      const params = first ? { id, limit: 10_000 } : { id, limit: 10_000, after_seq: st.maxSeq };
      client.call('meetings.events', params).then(
        (r) => {
          st.busy = false;
          if (log.current !== st) return;
          const got = ((r as { events: LoggedEvent[] }).events ?? []) as LoggedEvent[];
          for (const ev of got) st.maxSeq = Math.max(st.maxSeq, ev.seq);
          st.all = [...st.all, ...got].sort(byTime).slice(-SHOWN_EVENTS);
          setEvents([...st.all].reverse());
          if (st.again) fetchNew();
        },
        () => {
          st.busy = false;
        },
      );
    };
    fetchNew();
  }, [client, id, seq]);
  const running = live?.insight.timer.running ?? false;
  // Tick while the timer runs or anyone is connected (their totals grow too).
  const now = useTick(250, running || (live?.insight.participants.some((p) => p.connected) ?? false));
  if (error && !live) return <p class="error">{error}</p>;
  if (!live) return <p class="muted">Loading {id}…</p>;
  const { insight, receivedAt } = live;
  const elapsed = insight.timer.elapsed_ms + (running ? Math.max(0, now - receivedAt) : 0);
  return (
    <div class="insight" data-meeting={id}>
      <h3>
        {id} <Badge value={insight.status} />
      </h3>
      <MeetingControls meeting={id} />
      <p class="timer">
        <span class={`clock ${running ? 'running' : 'stopped'}`} id="meeting-timer" data-running={String(running)}>
          {duration(elapsed)}
        </span>{' '}
        <span class="muted">
          {running ? 'timer running' : 'timer stopped'}
          {insight.timer.requires?.length ? ` · needs ${insight.timer.requires.join(' + ')}` : ''} · started{' '}
          {time(insight.actual_start_time)}
          {insight.actual_end_time ? ` · ended ${time(insight.actual_end_time)}` : ''}
        </span>
      </p>
      <MeetingTimeline insight={insight} now={now} receivedAt={receivedAt} />
      <div class="two">
        <table class="participants">
          <thead>
            <tr>
              <th>Participant</th>
              <th>Calls</th>
              <th>Total</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {insight.participants.map((p) => (
              <tr key={p.key} data-participant={p.key}>
                <td>
                  <span class={`dot ${p.connected ? 'on' : 'off'}`} title={p.connected ? 'connected' : 'not connected'} />{' '}
                  {p.person ?? p.part_uri ?? p.key} {p.role && <span class="muted">({p.role})</span>}
                  {!p.matched && <span class="muted"> · unmatched</span>}
                </td>
                <td>
                  {p.calls.map((c) => (
                    <div key={c.call_id} class="call">
                      {time(c.join_time)}–{c.quit_time ? time(c.quit_time) : 'now'}
                    </div>
                  ))}
                </td>
                <td class="num">{duration(p.total_ms + (p.connected ? Math.max(0, now - receivedAt) : 0))}</td>
                <td>
                  <ParticipantActions meeting={id} p={p} />
                </td>
              </tr>
            ))}
            {insight.participants.length === 0 && (
              <tr>
                <td colSpan={4} class="muted">
                  Nobody joined yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <ol class="events" aria-label="meeting events">
          {events.map((ev) => (
            <li key={ev.seq} class={ev.known ? '' : 'muted'}>
              {time(ev.time)} <code>{ev.event}</code> {ev.data.part_uri ?? ev.data.participant ?? ''}
              {ev.event === 'dial.status' ? ` ${ev.data.person ?? ''} ${ev.data.status ?? ''}` : ''}
              {ev.duplicate ? ' (duplicate)' : ''}
              {ev.late ? ' (late)' : ''}
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}
