// The health gate's judgement: after an apply, the API answers, every device
// that was online before (and is still configured and enabled) is online
// again, and every feature started. Pure: the service polls the agent's
// health snapshot and asks this what is still wrong.
import type { Config } from '../schema.js';
import type { HealthSnapshotLike } from './host.js';

/** Devices that must come back: online before the apply, still in the config and enabled. */
export function devicesToCheck(before: HealthSnapshotLike, next: Config): string[] {
  return Object.entries(before.devices)
    .filter(([id, status]) => status === 'online' && next.devices[id] !== undefined && next.devices[id]?.enabled !== false)
    .map(([id]) => id);
}

/** What is not healthy yet, one phrase each; empty when the gate passes. */
export function healthProblems(now: HealthSnapshotLike, mustBeOnline: readonly string[]): string[] {
  const problems: string[] = [];
  if (!now.api) problems.push('the API does not answer');
  if (now.reloading) problems.push('the reload has not finished');
  for (const id of mustBeOnline) {
    const status = now.devices[id];
    if (status !== 'online') problems.push(`device ${id} is ${status ?? 'gone'} (it was online before the apply)`);
  }
  for (const [name, state] of Object.entries(now.features)) {
    if (state !== 'started') problems.push(`feature ${name} is ${state}`);
  }
  return problems;
}
