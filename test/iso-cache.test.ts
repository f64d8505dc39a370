// src/util/iso.ts keeps the text of each second formatted in the last 4,096 (a
// direct-mapped cache that a running agent fills in its first 68 minutes). The soak
// bench (issue 16) found each slot holding a chain of cons strings, ~190 bytes; a
// slot must hold one flat string of 20 characters.
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { expect, test, vi } from 'vitest';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

test('a filled per-second cache costs under 80 bytes a slot', async () => {
  vi.resetModules();
  const { iso } = await import('../src/util/iso.js');
  const base = Date.UTC(2026, 11, 6, 8, 0, 0);
  iso(base); // the day's text, formatted once
  const before = heapAfterGc();
  for (let s = 1; s <= 4096; s++) iso(base + s * 1000 + (s % 1000));
  const perSlot = (heapAfterGc() - before) / 4096;
  expect(iso(base + 4096 * 1000 + 96)).toBe(new Date(base + 4096 * 1000 + 96).toISOString());
  expect(perSlot).toBeLessThan(80);
});
