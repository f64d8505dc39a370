// A simulator is a witness of the vendor's manual, never of the driver
// (docs/architecture.md): no simulator reaches, through its imports, any file
// of drivers/ that the driver reaches — not only driver.ts but its codec,
// profiles, config schema, helpers; `import type` counts too, since a type is a
// reading of the protocol. Shared ground (a registry of simulated serial ports,
// binding-mock helpers) lives in src/transport.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DRIVERS = path.resolve(import.meta.dirname, '../drivers');

/** Simulator files: simulator.ts, simulator-*.ts, *-sim.ts, sim-*.ts. */
const isSimulatorFile = (f: string) => /^(simulator(-[\w-]+)?|[\w-]+-sim|sim-[\w-]+)\.ts$/.test(path.basename(f));

/**
 * Relative imports of `file` inside the drivers folder (static `import`, `import type`,
 * `export … from`, dynamic `import()`), resolved to .ts files.
 */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (target.startsWith(DRIVERS + path.sep) && fs.existsSync(target)) out.push(target);
  }
  return out;
}

/** Files reached from `from` through relative imports inside drivers/, not entering a file `stop` refuses. */
function reached(from: string, stop: (f: string) => boolean = () => false): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const t of importsOf(f)) if (!stop(t)) walk(t);
  };
  walk(from);
  return seen;
}

/** What the driver of folder `dir` reaches: from its index.ts and driver.ts, not through its simulator files. */
function driverFiles(dir: string): Set<string> {
  const out = new Set<string>();
  for (const entry of ['index.ts', 'driver.ts']) {
    const f = path.join(dir, entry);
    if (fs.existsSync(f)) for (const r of reached(f, isSimulatorFile)) out.add(r);
  }
  return out;
}

/**
 * Known exceptions, each with the reason it is still open. Empty is the goal; a listed simulator
 * that no longer reaches driver files fails the test ("remove the exception").
 */
const KNOWN: Record<string, string> = {};

describe('simulators reach none of their drivers’ files', () => {
  const folders = fs
    .readdirSync(DRIVERS)
    .map((d) => path.join(DRIVERS, d))
    .filter((d) => fs.statSync(d).isDirectory());
  const simulators = folders.flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((f) => isSimulatorFile(f) && !f.endsWith('.test.ts'))
      .map((f) => path.join(d, f)),
  );
  const allDriverFiles = new Set(folders.flatMap((d) => [...driverFiles(d)]));

  it('finds the simulators', () => {
    expect(simulators.length).toBeGreaterThanOrEqual(10);
  });

  it('the import reader sees type-only, re-export and dynamic imports', () => {
    const visca = path.join(DRIVERS, 'visca');
    // driver.ts → profiles.ts (value import); index.ts → driver.ts; actions.ts → driver.ts (import type).
    expect(driverFiles(visca)).toContain(path.join(visca, 'profiles.ts'));
    expect(importsOf(path.join(visca, 'actions.ts'))).toContain(path.join(visca, 'driver.ts'));
  });

  for (const sim of simulators) {
    const name = path.relative(DRIVERS, sim);
    it(name, () => {
      const bad = [...reached(sim)]
        .filter((f) => f !== sim && allDriverFiles.has(f))
        .map((f) => path.relative(DRIVERS, f))
        .sort();
      if (KNOWN[name]) {
        expect(bad, `${name} reaches no driver file any more: remove its exception`).not.toEqual([]);
        return;
      }
      expect(bad, `${name} reaches files its driver reads the protocol with`).toEqual([]);
    });
  }
});
