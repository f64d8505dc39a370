// The "Adding a driver" checklist (docs/architecture.md), enforced for every
// registered driver (drivers/index.ts) that talks to a device (issue 17):
// - drivers/<name>/conformance.ts: a table whose rows each cite the manual
//   (checkTable: a document and the place in it), and conformance.test.ts
//   running it against the driver (describeDriverConformance) and the
//   simulator (it imports ./simulator.js);
// - the driver in a fault matrix (test/fault-matrix-*.test.ts);
// - docs/drivers/<name>.md saying what the handshake checks, the probe and its
//   interval, and how offline is detected.
// Exemptions are listed below with their reason; a new driver gets none by default.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/index.js';
import { type ConformanceRow, type ConformanceTable, checkTable } from './support/conformance.js';

const root = path.join(import.meta.dirname, '..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const exists = (rel: string) => fs.existsSync(path.join(root, rel));

type Item = 'conformance' | 'fault matrix' | 'lifecycle doc';

/** Drivers (or items of the checklist) that do not apply, each with why. */
const EXEMPT: Record<string, Partial<Record<Item, string>>> = {
  recorder: {
    conformance: 'talks to no device: it records the room with a local ffmpeg (drivers/recorder)',
    'fault matrix': 'talks to no device: its failures are ffmpeg exits and a full disk (test/recorder-*.test.ts)',
    'lifecycle doc': 'not under the network lifecycle: no handshake, no probe',
  },
  atem: {
    conformance:
      'atem-connection owns the wire and Blackmagic publishes no ATEM protocol document to cite; the driver is checked against a fake of the library class (drivers/atem/fake-atem.ts) in test/fault-matrix-atem.test.ts and test/kind-contracts.test.ts',
  },
  // ics: a device only in URL mode (a local file is read, not polled over the network); its URL mode
  // is what the table and the HTTP fault matrix cover, so no exemption.
};

/** The identifier each driver is registered under, read from drivers/index.ts ("import { viscaDriver } from './visca/index.js'"). */
function driverIdentifiers(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const m of read('drivers/index.ts').matchAll(/import \{ (\w+) \} from '\.\/([\w-]+)\/index\.js'/g)) ids.set(m[2], m[1]);
  return ids;
}

function rowsOf(mod: Record<string, unknown>): ConformanceTable[] {
  const isRow = (v: unknown): v is ConformanceRow =>
    typeof v === 'object' && v !== null && typeof (v as ConformanceRow).cite === 'string' && 'id' in v;
  return Object.values(mod).filter(
    (v): v is ConformanceTable =>
      typeof v === 'object' && v !== null && Object.values(v).length > 0 && Object.values(v).every(isRow),
  );
}

const faultMatrices = fs
  .readdirSync(path.join(root, 'test'))
  .filter((f) => /^fault-matrix-.*\.test\.ts$/.test(f))
  .map((f) => ({ file: `test/${f}`, text: read(`test/${f}`) }));

/** The fault-matrix files that import the driver and run it on a rig (describeFaultMatrix, startRig, the HTTP matrix). */
function matricesOf(folder: string, identifier: string): string[] {
  const uses = new RegExp(`\\b${identifier}\\b`, 'g');
  return faultMatrices
    .filter(
      ({ text }) =>
        text.includes(`from '../drivers/${folder}/`) &&
        (text.match(uses)?.length ?? 0) >= 2 &&
        /describe\w*FaultMatrix\(|startRig\(/.test(text),
    )
    .map(({ file }) => file);
}

const identifiers = driverIdentifiers();

describe('every driver that talks to a device has its conformance table, fault matrix and lifecycle doc', () => {
  it('every registered driver is found in drivers/index.ts, and every exemption names a registered driver', () => {
    expect(builtinDrivers.map((d) => d.name).filter((n) => !identifiers.has(n))).toEqual([]);
    expect(Object.keys(EXEMPT).filter((n) => !identifiers.has(n))).toEqual([]);
  });

  for (const d of builtinDrivers) {
    const exempt = EXEMPT[d.name] ?? {};
    describe(d.name, () => {
      const conformance = exempt.conformance;
      if (conformance) it.skip(`conformance table — exempt: ${conformance}`, () => undefined);
      else {
        it(`drivers/${d.name}/conformance.ts has rows, each citing its document and the place in it`, async () => {
          const rel = `drivers/${d.name}/conformance.ts`;
          expect(exists(rel), `${rel} missing: write the table from the manual (docs/architecture.md, "Adding a driver")`).toBe(
            true,
          );
          const tables = rowsOf(await import(`../drivers/${d.name}/conformance.ts`));
          expect(tables.length, `${rel} exports no table of rows with citations`).toBeGreaterThan(0);
          for (const t of tables) checkTable(t);
        });
        it(`drivers/${d.name}/conformance.test.ts runs the table against the driver and the simulator`, () => {
          const rel = `drivers/${d.name}/conformance.test.ts`;
          expect(exists(rel), `${rel} missing`).toBe(true);
          const text = read(rel);
          expect(text, `${rel} reads the table`).toContain("from './conformance.js'");
          expect(text, `${rel} checks the citations`).toMatch(/checkTable\(/);
          expect(text, `${rel} runs the table against the driver`).toMatch(
            new RegExp(`describeDriverConformance\\(\\s*'${d.name}'`),
          );
          expect(text, `${rel} runs the table against the simulator`).toContain("from './simulator.js'");
        });
      }

      const matrix = exempt['fault matrix'];
      if (matrix) it.skip(`fault matrix — exempt: ${matrix}`, () => undefined);
      else
        it('runs in a fault matrix (test/fault-matrix-*.test.ts)', () => {
          expect(
            matricesOf(d.name, identifiers.get(d.name) ?? d.name),
            `no test/fault-matrix-*.test.ts imports ${identifiers.get(d.name)} from drivers/${d.name} and runs it on a rig`,
          ).not.toEqual([]);
        });

      const doc = exempt['lifecycle doc'];
      if (doc) it.skip(`lifecycle doc — exempt: ${doc}`, () => undefined);
      else
        it(`docs/drivers/${d.name}.md says what the handshake checks, the probe and its interval, and how offline is seen`, () => {
          const rel = `docs/drivers/${d.name}.md`;
          expect(exists(rel), `${rel} missing`).toBe(true);
          const text = read(rel);
          expect(text, `${rel}: the handshake`).toMatch(/handshake/i);
          expect(text, `${rel}: the probe`).toMatch(/probe/i);
          expect(text, `${rel}: the probe's interval`).toMatch(/interval|period|every /i);
          expect(text, `${rel}: how offline is detected`).toMatch(/offline/i);
        });
    });
  }
});

describe('the citation check refuses what is not a citation', () => {
  const row = (cite: string): ConformanceTable => ({ r: { id: 'r', kind: 'reply', cite, reply: 'x' } });
  const refuses = (cite: string) => expect(() => checkTable(row(cite)), cite).toThrow();
  it('refuses text that names no document or no place in it', () => {
    refuses('the device answers like this, as usual');
    refuses('Sony manual');
    refuses('see the driver code for details');
    refuses('https://example.com');
    refuses('TODO: Extron user guide p.12');
    expect(() => checkTable({}), 'an empty table').toThrow();
  });
  it('accepts a manual with its page, an RFC section, a help page by its URL and a source file', () => {
    for (const cite of [
      'Extron MTPX Plus user guide, error responses (p.101): E10 invalid command',
      'RFC 9110 HTTP Semantics §15.6.4 503 Service Unavailable',
      'QSC QRC Commands (q-syshelp.qsc.com QRC_Commands.htm) "NoOp"',
      'TrueConf v3 error envelope (teachbase/true-conf spec fixtures errors/forbidden.json)',
    ])
      expect(() => checkTable(row(cite)), cite).not.toThrow();
  });
});
