// The meetings of the soak (scripts/bench/soak.ts): one shape for the load and for the
// earlier meetings of the day the agent starts on, and the pre-fill that stores and reads
// those earlier meetings until the agent's bounded in-memory caches are at their caps —
// the state of an agent that has served meetings for a while, not of one just started.
// Without it the soak measured the caches filling (each ended meeting adds its final
// insight, ~1.7 KB, until [tracking] final_cache_mb), not whether anything leaks.
import type { CacheLevels } from './soak-child.js';

export interface TimedEvent {
  /** Seconds after the meeting's start at which the load sends it. */
  after: number;
  event: Record<string, unknown>;
}

/**
 * One meeting as the room's conference server reports it: create, three participants join
 * (expert and two clients, each with user_data), one leaves at 10 s and rejoins at 12 s with
 * a new call, everyone quits at 25–27 s, the conference ends at 28 s. 10 events.
 */
export function meetingEvents(conf: string, id: string, t0: number): TimedEvent[] {
  const ud = (person: string) => JSON.stringify({ meeting: id, person, role: person === 'p1' ? 'expert' : 'client' });
  const out: TimedEvent[] = [];
  const at = (after: number, ev: Record<string, unknown>) => out.push({ after, event: { id: conf, ...ev } });
  at(0, { event: 'conf.create.succ', begin_time: t0, user_data: JSON.stringify({ meeting: id }) });
  for (const [i, p] of ['p1', 'p2', 'p3'].entries()) {
    at(1 + i, {
      event: 'conf.joined',
      join_time: t0 + 1 + i,
      call_id: `${conf}-${p}-a`,
      part_uri: `+7000${i}`,
      user_data: ud(p),
    });
  }
  at(10, {
    event: 'conf.quit',
    join_time: t0 + 2,
    quit_time: t0 + 10,
    call_id: `${conf}-p2-a`,
    part_uri: '+70001',
    user_data: ud('p2'),
  });
  at(12, { event: 'conf.joined', join_time: t0 + 12, call_id: `${conf}-p2-b`, part_uri: '+70001', user_data: ud('p2') });
  for (const [i, p] of ['p1', 'p2', 'p3'].entries()) {
    const call = p === 'p2' ? `${conf}-p2-b` : `${conf}-${p}-a`;
    const join = p === 'p2' ? t0 + 12 : t0 + 1 + i;
    at(25 + i, {
      event: 'conf.quit',
      join_time: join,
      quit_time: t0 + 25 + i,
      call_id: call,
      part_uri: `+7000${i}`,
      user_data: ud(p),
    });
  }
  at(28, { event: 'conf.end', begin_time: t0, end_time: t0 + 28 });
  return out;
}

/** Whether every bounded tracking cache holds its cap (final insights: within one more meeting's text of it). */
export function cachesFull(l: CacheLevels, finalChars: number): boolean {
  return (
    l.folds.count >= l.folds.cap &&
    l.deltaBases.count >= l.deltaBases.cap &&
    l.dedup.conferences >= l.dedup.maxConferences &&
    l.userData.count >= l.userData.cap &&
    l.finals.chars + 2 * finalChars > l.finals.capChars
  );
}

export interface PrefillOptions {
  url: string;
  ingestToken: string;
  viewerToken: string;
  levels: () => Promise<CacheLevels | undefined>;
  /** Meetings per webhook POST (10 events each). */
  perPost?: number;
  /** Give up (and say so) after this many meetings. */
  maxMeetings?: number;
}

/**
 * Stores earlier meetings of the load's shape (ending before now, 30 s apart), each then read
 * once by GET /api/meetings/{id} like a console listing the day, until cachesFull. Returns how
 * many it took and the levels reached.
 */
export async function prefillDay(o: PrefillOptions): Promise<{ meetings: number; full: boolean; levels?: CacheLevels }> {
  const perPost = o.perPost ?? 100;
  const maxMeetings = o.maxMeetings ?? 10_000;
  const start = Math.floor(Date.now() / 1000) - 3600;
  let n = 0;
  let levels = await o.levels();
  if (!levels) return { meetings: 0, full: false };
  let finalChars = 0;
  while (n < maxMeetings && !cachesFull(levels, finalChars)) {
    const ids: string[] = [];
    const events: Record<string, unknown>[] = [];
    for (let k = 0; k < perPost; k++, n++) {
      const id = `EARLIER-${n}`;
      ids.push(id);
      for (const e of meetingEvents(`earlier-conf-${n}`, id, start - n * 30)) events.push(e.event);
    }
    const r = await fetch(`${o.url}/hooks/conference`, {
      method: 'POST',
      body: JSON.stringify(events),
      headers: { authorization: `Bearer ${o.ingestToken}`, 'content-type': 'application/json' },
    });
    if (r.status !== 200) throw new Error(`soak pre-fill: webhook answered ${r.status}: ${await r.text()}`);
    for (const id of ids) {
      const g = await fetch(`${o.url}/api/meetings/${id}`, { headers: { authorization: `Bearer ${o.viewerToken}` } });
      if (g.status !== 200) throw new Error(`soak pre-fill: GET /api/meetings/${id} answered ${g.status}`);
      finalChars = Math.max(finalChars, (await g.arrayBuffer()).byteLength);
    }
    levels = (await o.levels()) as CacheLevels;
  }
  // The last batch's meetings are pushed (and their folds unpinned) after [tracking] publish_delay_ms.
  await new Promise((r) => setTimeout(r, 1000));
  levels = (await o.levels()) as CacheLevels;
  return { meetings: n, full: cachesFull(levels, finalChars), levels };
}
