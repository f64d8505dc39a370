// What the calendar source drivers (tcs, ics) share beyond the model: the
// synced window, the `list_events` range check and the `refresh` action.
import { Type } from '@sinclair/typebox';
import { defineAction } from '../host/contract.js';
import { AgentError } from '../util/errors.js';
import type { Poller } from '../util/poller.js';
import { addDays, startOfDay } from './zone.js';

/** Params of the `list_events` action. */
export const RangeParams = Type.Object(
  { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);

/** The [from, to) range of `list_events` params, in ms; refuses an empty or reversed one. */
export function parseRange(p: { from: string; to: string }): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(p.from);
  const toMs = Date.parse(p.to);
  if (!(toMs > fromMs)) throw new AgentError('INVALID_PARAMS', '"to" must be after "from"');
  return { fromMs, toMs };
}

/** The window each sync covers: from yesterday's start through `daysAhead` days after today. */
export function syncWindow(now: number, zone: string, daysAhead: number): { from: number; to: number } {
  const from = addDays(startOfDay(now, zone), -1, zone);
  return { from, to: addDays(from, daysAhead + 2, zone) };
}

/** The `refresh` action: sync now instead of waiting for the next poll. */
export function refreshAction(poller: Poller, description: string) {
  return defineAction({
    description,
    params: Type.Object({}, { additionalProperties: false }),
    readOnly: true,
    allowOffline: true,
    run: async () => {
      await poller.runNow();
      return { ok: true };
    },
  });
}
