// A simulator is a witness of the vendor's manual, never of the driver
// (docs/architecture.md): no simulator reaches its driver's code through its
// imports. Shared ground (a registry of simulated serial ports, binding-mock
// helpers) lives in src/transport.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DRIVERS = path.resolve(import.meta.dirname, '../drivers');

/** Files reached from `file` through relative imports inside the drivers folder. */
function reached(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (target.startsWith(DRIVERS) && fs.existsSync(target)) reached(target, seen);
  }
  return seen;
}

describe('simulators do not depend on drivers', () => {
  const simulators = fs
    .readdirSync(DRIVERS)
    .flatMap((d) => ['simulator.ts', 'serial-sim.ts'].map((f) => path.join(DRIVERS, d, f)))
    .filter((f) => fs.existsSync(f));

  it('finds the simulators', () => {
    expect(simulators.length).toBeGreaterThanOrEqual(10);
  });

  for (const sim of simulators) {
    it(path.relative(DRIVERS, sim), () => {
      const drivers = [...reached(sim)].filter((f) => path.basename(f) === 'driver.ts').map((f) => path.relative(DRIVERS, f));
      expect(drivers).toEqual([]);
    });
  }
});
