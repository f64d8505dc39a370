// The pre-v4 tracking dedup key text, for tests of the upgrade and of the key's fields.
import { canonical } from '../../src/tracking/parse.js';
import type { ConfEvent } from '../../src/tracking/types.js';

/**
 * The dedup key as text, as tracking schema versions 1–3 built it (they stored
 * its SHA-1; migration 4 re-keys such rows). Tests build old databases and
 * compare keys with it; the agent no longer needs it.
 */
export function dedupText(ev: ConfEvent, raw: unknown): string {
  if (!ev.known) return JSON.stringify([ev.event, ev.conference, canonical(raw)]);
  return JSON.stringify([
    ev.event,
    ev.conference,
    ev.call_id,
    ev.part_uri,
    ev.person,
    ev.begin_time,
    ev.end_time,
    ev.join_time,
    ev.quit_time,
    ev.error,
  ]);
}
