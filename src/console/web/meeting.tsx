// Today's calendar, and the current meeting's insight: participants, their
// calls, the timer ticking live, and the meeting's event stream beside it.
import { useEffect, useRef, useState } from 'preact/hooks';
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
interface Call {
  call_id: string;
  join_time: string;
  quit_time: string | null;
  duration_ms: number;
}
interface Participant {
  key: string;
  person: string | null;
  role: string | null;
  part_uri: string | null;
  connected: boolean;
  total_ms: number;
  calls: Call[];
}
interface Insight {
  id: string;
  status: string;
  actual_start_time: string | null;
  actual_end_time: string | null;
  participants: Participant[];
  timer: { running: boolean; elapsed_ms: number; requires: string[] | null };
  as_of: string;
}
/** An insight and the local time it arrived: the timer ticks from there, whatever the agent's clock says. */
type Live = { insight: Insight; receivedAt: number };
interface LoggedEvent {
  seq: number;
  event: string;
  time: string;
  known: boolean;
  duplicate: boolean;
  late: boolean;
  data: { call_id?: string; part_uri?: string };
}

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
  live: Map<string, Live>;
}

function reduceMeetings(prev: MeetingsView | undefined, e: { snapshot: boolean; data: unknown }): MeetingsView {
  if (e.snapshot) return { summaries: (e.data as { meetings: Summary[] }).meetings, live: new Map() };
  const insight = e.data as Insight;
  const summaries = prev?.summaries ?? [];
  const known = summaries.some((s) => s.id === insight.id);
  const summary: Summary = {
    id: insight.id,
    status: insight.status,
    title: summaries.find((s) => s.id === insight.id)?.title ?? null,
    actual_start_time: insight.actual_start_time,
    scheduled_start: summaries.find((s) => s.id === insight.id)?.scheduled_start ?? null,
  };
  return {
    summaries: known ? summaries.map((s) => (s.id === insight.id ? summary : s)) : [summary, ...summaries],
    live: new Map(prev?.live).set(insight.id, { insight, receivedAt: Date.now() }),
  };
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
        {current && <MeetingInsight id={current} pushed={meetings.state?.live.get(current)} />}
      </div>
    </Card>
  );
}

function MeetingInsight({ id, pushed }: { id: string; pushed?: Live }) {
  const { client, epoch } = useConsole();
  const [fetched, setFetched] = useState<Live | null>(null);
  const [events, setEvents] = useState<LoggedEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);
  // The pushed insight (newest) wins over the one fetched when the meeting was chosen.
  const live = pushed && (!fetched || pushed.receivedAt >= fetched.receivedAt) ? pushed : fetched;
  useEffect(() => {
    const mine = ++seq.current;
    client.call('meetings.get', { id }).then(
      (r) => mine === seq.current && setFetched({ insight: r as Insight, receivedAt: Date.now() }),
      (e) => mine === seq.current && setError(describeError(e)),
    );
  }, [client, id, epoch]);
  useEffect(() => {
    let gone = false;
    client.call('meetings.events', { id, limit: 10_000 }).then(
      (r) => !gone && setEvents(((r as { events: LoggedEvent[] }).events ?? []).slice(-50).reverse()),
      () => undefined,
    );
    return () => {
      gone = true;
    };
  }, [client, id, pushed?.receivedAt, epoch]);
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
      <div class="two">
        <table class="participants">
          <thead>
            <tr>
              <th>Participant</th>
              <th>Calls</th>
              <th>Total</th>
            </tr>
          </thead>
          <tbody>
            {insight.participants.map((p) => (
              <tr key={p.key} data-participant={p.key}>
                <td>
                  <span class={`dot ${p.connected ? 'on' : 'off'}`} title={p.connected ? 'connected' : 'not connected'} />{' '}
                  {p.person ?? p.part_uri ?? p.key} {p.role && <span class="muted">({p.role})</span>}
                </td>
                <td>
                  {p.calls.map((c) => (
                    <div key={c.call_id} class="call">
                      {time(c.join_time)}–{c.quit_time ? time(c.quit_time) : 'now'}
                    </div>
                  ))}
                </td>
                <td class="num">{duration(p.total_ms + (p.connected ? Math.max(0, now - receivedAt) : 0))}</td>
              </tr>
            ))}
            {insight.participants.length === 0 && (
              <tr>
                <td colSpan={3} class="muted">
                  Nobody joined yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <ol class="events" aria-label="meeting events">
          {events.map((ev) => (
            <li key={ev.seq} class={ev.known ? '' : 'muted'}>
              {time(ev.time)} <code>{ev.event}</code> {ev.data.part_uri ?? ''}
              {ev.duplicate ? ' (duplicate)' : ''}
              {ev.late ? ' (late)' : ''}
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}
