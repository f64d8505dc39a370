// The shipped bundle validates api.toml, its devices and scenario files with code Ajv generated at
// build time (scripts/ajv-standalone.ts); tsx and the other tests compile the same schemas at run
// time (src/config/validators.ts). Both must answer alike: same verdict, same errors, same defaults
// filled in. The generated module is bundled here exactly as scripts/build-agent.ts bundles it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/index.js';
import { standaloneValidatorsPlugin, standaloneValidatorsSource } from '../scripts/ajv-standalone.js';
import * as runtime from '../src/config/validators.js';

type Validators = typeof runtime;
const ROOT = path.resolve(import.meta.dirname, '..');
let tmp: string;
let built: Validators;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ajv-standalone-'));
  const outfile = path.join(tmp, 'validators.mjs');
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'config', 'validators.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);" },
    plugins: [standaloneValidatorsPlugin(builtinDrivers)],
    logLevel: 'warning',
  });
  built = (await import(outfile)) as Validators;
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const clone = <T>(v: T): T => structuredClone(v);

/** Runs both validators on their own copy: verdict, errors and the data after defaults. */
function both(pick: (v: Validators) => (data: unknown) => boolean, data: unknown) {
  const answer = (v: Validators) => {
    const copy = clone(data);
    const fn = pick(v) as ((d: unknown) => boolean) & { errors?: unknown };
    const ok = fn(copy);
    return { ok, errors: ok ? null : fn.errors, data: copy };
  };
  return { runtime: answer(runtime), built: answer(built) };
}

const demo = parse(fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8')) as Record<string, unknown>;
const agentOf = (over: Record<string, unknown>) => ({ ...clone(demo), agent: { ...(demo.agent as object), ...over } });

const CONFIGS: [string, unknown][] = [
  ['the demo api.toml', demo],
  ['the smallest config (defaults fill the rest)', { agent: { room_id: 'r1' } }],
  ['an unknown top-level key', { ...clone(demo), nonsense: 1 }],
  ['an unknown [agent] key', agentOf({ colour: 'blue' })],
  ['a wrong type', agentOf({ action_timeout_ms: 'soon' })],
  ['a number out of range', agentOf({ action_timeout_ms: -5 })],
  ['a bad enum', agentOf({ log_level: 'loud' })],
  ['no [agent] room_id', { agent: {} }],
  ['not an object', 42],
  ['several errors at once', { agent: { room_id: 7, log_level: 'x', extra: true }, devices: 'none' }],
];

describe('standalone validators (build time) answer as the run-time compiled ones', () => {
  it('generates code for the config, scenario files and every built-in driver', () => {
    const source = standaloneValidatorsSource(builtinDrivers);
    expect(source).toContain('export const validateConfigFile');
    for (const d of builtinDrivers) expect(source).toContain(JSON.stringify(d.name));
  });

  for (const [name, data] of CONFIGS) {
    it(`config: ${name}`, () => {
      const r = both((v) => v.validateConfigFile, data);
      expect(r.built).toEqual(r.runtime);
    });
  }

  it('config: the verdicts above are not all the same (the cases test something)', () => {
    const verdicts = CONFIGS.map(([, d]) => both((v) => v.validateConfigFile, d).runtime.ok);
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });

  it('config: defaults are applied alike', () => {
    const r = both((v) => v.validateConfigFile, { agent: { room_id: 'r1' } });
    expect(r.runtime.ok).toBe(true);
    expect(Object.keys((r.runtime.data as { agent: object }).agent).length).toBeGreaterThan(1);
    expect(r.built.data).toEqual(r.runtime.data);
  });

  it('every driver: the demo devices, a bare table, an unknown key and wrong types', () => {
    const demoDevices = Object.values(demo.devices as Record<string, { driver: string }>);
    for (const d of builtinDrivers) {
      const tables: unknown[] = [
        ...demoDevices.filter((t) => t.driver === d.name),
        { driver: d.name },
        { driver: d.name, simulated: true },
        { driver: d.name, simulated: true, no_such_key: 1 },
        { driver: d.name, simulated: 'yes', enabled: 3 },
      ];
      for (const t of tables) {
        const r = both((v) => v.deviceValidator(d.name, d.config), t);
        expect(r.built, `${d.name}: ${JSON.stringify(t)}`).toEqual(r.runtime);
      }
    }
  });

  it('scenario files: every shipped one and broken ones', () => {
    const dir = path.join(ROOT, 'scenarios');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.toml'));
    expect(files.length).toBeGreaterThan(0);
    const cases: unknown[] = files.map((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    cases.push({}, { scenario: 'not a table' }, { ...(cases[0] as object), unexpected: [1, 2] });
    for (const c of cases) {
      const r = both((v) => v.validateScenarioFile, c);
      expect(r.built, JSON.stringify(c).slice(0, 200)).toEqual(r.runtime);
    }
  });
});
