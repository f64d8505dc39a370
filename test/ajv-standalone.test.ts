// The shipped bundle validates api.toml, its devices and scenario files, and the params of JSON-RPC
// methods, device actions and HTTP bodies, with code Ajv generated at build time
// (scripts/ajv-standalone.ts); tsx and the other tests compile the same schemas at run time
// (src/config/validators.ts, src/host/params-validators.ts). Both must answer alike: same verdict,
// same errors, same defaults filled in. The generated modules are bundled here exactly as
// scripts/build-agent.ts bundles them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import * as esbuild from 'esbuild';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/index.js';
import {
  demoParamsSchemas,
  standaloneParamsSource,
  standaloneValidatorsPlugin,
  standaloneValidatorsSource,
} from '../scripts/ajv-standalone.js';
import * as runtime from '../src/config/validators.js';
import { paramsSchemaKey } from '../src/host/params-key.js';
import * as runtimeParams from '../src/host/params-validators.js';

type Validators = typeof runtime;
type ParamsValidators = typeof runtimeParams;
const ROOT = path.resolve(import.meta.dirname, '..');
let tmp: string;
let built: Validators;
let builtParams: ParamsValidators;
/** The demo agent's params schemas, as the build collects them. */
let demoSchemas: TSchema[];

/** Bundles one of the replaced modules as scripts/build-agent.ts does and imports it. */
async function bundle<T>(entry: string[], name: string): Promise<T> {
  const outfile = path.join(tmp, name);
  await esbuild.build({
    entryPoints: [path.join(ROOT, ...entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);" },
    plugins: [standaloneValidatorsPlugin(builtinDrivers, async () => demoSchemas)],
    logLevel: 'warning',
  });
  return (await import(outfile)) as T;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ajv-standalone-'));
  demoSchemas = await demoParamsSchemas();
  built = await bundle<Validators>(['src', 'config', 'validators.ts'], 'validators.mjs');
  builtParams = await bundle<ParamsValidators>(['src', 'host', 'params-validators.ts'], 'params-validators.mjs');
}, 90_000);

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

/** Params to try on a schema: none, a valid value, an unknown key, each top-level key with a wrong type, not an object. */
function paramsCases(schema: TSchema): unknown[] {
  let valid: Record<string, unknown> = {};
  try {
    const v = Value.Create(schema);
    if (v && typeof v === 'object' && !Array.isArray(v)) valid = v as Record<string, unknown>;
  } catch {
    // a schema TypeBox cannot make a value of: the other cases still run
  }
  const props = Object.keys((schema as { properties?: object }).properties ?? {});
  const wrong = (v: unknown) => (typeof v === 'string' ? 12345 : typeof v === 'number' ? 'not a number' : 'x');
  return [
    {},
    valid,
    { ...valid, no_such_key: 1 },
    ...props.map((p) => ({ ...valid, [p]: wrong(valid[p]) })),
    ...props.map((p) => ({ ...valid, [p]: { nested: [1, 2] } })),
    null,
    42,
    'params',
  ];
}

describe('standalone params validators (build time) answer as the run-time compiled ones', () => {
  it('the demo agent has methods, device actions and an HTTP body to validate, each generated at build time', () => {
    expect(demoSchemas.length).toBeGreaterThan(40);
    const source = standaloneParamsSource(demoSchemas);
    for (const s of demoSchemas) expect(source).toContain(JSON.stringify(paramsSchemaKey(s)));
  });

  it('every schema of the demo agent: same verdict, errors and defaults on valid, missing, unknown and wrong params', () => {
    let ok = 0;
    let rejected = 0;
    for (const schema of demoSchemas) {
      for (const data of paramsCases(schema)) {
        const answer = (v: ParamsValidators) => {
          const copy = clone(data);
          const fn = v.paramsValidator(schema);
          const verdict = fn(copy);
          return { ok: verdict, errors: verdict ? null : fn.errors, data: copy };
        };
        const r = { runtime: answer(runtimeParams), built: answer(builtParams) };
        expect(r.built, `${JSON.stringify(schema).slice(0, 200)} on ${JSON.stringify(data)}`).toEqual(r.runtime);
        if (r.runtime.ok) ok++;
        else rejected++;
      }
    }
    // The cases test something: both verdicts occur, many times.
    expect(ok).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('a schema the build did not see is compiled at run time and answers alike', () => {
    const unseen = Type.Object({ n_unseen: Type.Integer({ minimum: 3, default: 5 }) }, { additionalProperties: false });
    expect(standaloneParamsSource(demoSchemas)).not.toContain(JSON.stringify(paramsSchemaKey(unseen)));
    for (const data of [{}, { n_unseen: 1 }, { n_unseen: 4 }, { m: 1 }]) {
      const a = clone(data);
      const b = clone(data);
      const rt = runtimeParams.paramsValidator(unseen);
      const bt = builtParams.paramsValidator(unseen);
      expect([bt(b), bt.errors ?? null, b]).toEqual([rt(a), rt.errors ?? null, a]);
    }
  });

  it('the same schema object gets the same validator (looked up once)', () => {
    const s = demoSchemas[0];
    expect(builtParams.paramsValidator(s)).toBe(builtParams.paramsValidator(s));
  });
});
