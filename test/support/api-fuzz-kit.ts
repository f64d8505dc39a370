// What the API fuzz suites share (test/api-fuzz.test.ts on the demo room,
// test/api-fuzz-features.test.ts with every feature on): the method table from
// docs/api.schema.json, the role tokens of the fuzz configs, params drawn from
// each method's schema, and the property that drives a list of methods under
// every role on concurrent connections and collects what was answered wrong.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Role } from '../../src/config/schema.js';
import { FuzzConn, type Reply } from './fuzz-conn.js';
import { type Hints, type JsonSchema, malformedArb, validArb } from './schema-arbitrary.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const API = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/api.schema.json'), 'utf8')) as {
  methods: Record<string, { role: Role; params: JsonSchema }>;
  topics: Record<string, unknown>;
  errors: Record<string, number>;
};
const RUNS = Number(process.env.FUZZ_RUNS) || 0;
/** `FUZZ_RUNS` when set (a nightly run), else the default given. */
export const runs = (byDefault: number) => RUNS || byDefault;

export const TOKENS: Record<Role, string> = {
  viewer: 'demo-viewer-token-change-me',
  operator: 'demo-operator-token-change-me',
  admin: 'demo-admin-token-change-me',
  ingest: 'fuzz-ingest-token-0123456789',
  identity: 'fuzz-identity-token-0123456789',
};
/** `[[agent.tokens]]` for the roles the demo room has no token for. */
export const LANE_TOKENS_TOML = (['ingest', 'identity'] as const)
  .map((role) => `\n[[agent.tokens]]\nname = "fuzz-${role}"\ntoken = "${TOKENS[role]}"\nrole = "${role}"\n`)
  .join('');
const RANK: Record<Role, number> = { ingest: 0, identity: 0, viewer: 1, operator: 2, admin: 3 };
export const ROLES = Object.keys(TOKENS) as Role[];
export const DOCUMENTED_CODES = new Set(Object.values(API.errors));

/** What is wrong with an answer, or null: a client mistake never gets -32603; every code is one docs/api.md lists. */
export function undocumented(r: Reply): string | null {
  if (r.error) {
    if (!DOCUMENTED_CODES.has(r.error.code)) return `undocumented code ${r.error.code}`;
    if (r.error.code === API.errors.INTERNAL) return 'internal error';
    return null;
  }
  return Object.hasOwn(r, 'result') ? null : 'neither result nor error';
}

export interface FuzzTarget {
  url: string;
  hints: Hints;
  /** Per device, its actions' params schemas (from actions.list). */
  deviceActions: Record<string, Record<string, JsonSchema>>;
}

/** Params for one method: schema-valid or malformed; device.action draws real device and action names. */
function paramsArb(method: string, t: FuzzTarget): fc.Arbitrary<unknown> {
  const schema = API.methods[method]?.params;
  if (!schema) return fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }));
  const generic = fc.oneof(
    validArb(schema, t.hints),
    validArb(schema, t.hints),
    malformedArb(schema, t.hints),
    fc.constant(undefined),
  );
  const devices = Object.keys(t.deviceActions);
  if (method !== 'device.action' || devices.length === 0) return generic;
  const onRealAction = fc.constantFrom(...devices).chain((device): fc.Arbitrary<unknown> => {
    const actions = t.deviceActions[device] ?? {};
    const names = Object.keys(actions);
    if (!names.length) return fc.constant({ device, action: 'none' });
    return fc.constantFrom(...names).chain((action) => {
      const s = actions[action] as JsonSchema;
      return fc.oneof(validArb(s, t.hints), malformedArb(s, t.hints)).map((params) => ({ device, action, params }));
    });
  });
  // Names a real device does not have, prototype names first (finding 7).
  const onMissingAction = fc.record({
    device: fc.constantFrom(...devices),
    action: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'), fc.string()),
    params: fc.oneof(fc.constant({}), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }))),
  });
  return fc.oneof(onRealAction, onRealAction, onMissingAction, generic);
}

/**
 * Drives each method with `casesFor(method)` calls: any role, one of three connections per role,
 * valid or malformed params, at most 50 in flight. Returns what was answered wrong (an undocumented
 * code, -32603, no answer, a call below the method's role not refused FORBIDDEN) and checks the
 * connections stayed open with no stray messages.
 */
export async function fuzzMethods(t: FuzzTarget, methods: readonly string[], casesFor: (m: string) => number): Promise<string[]> {
  const conns = new Map<string, FuzzConn>();
  for (const role of ROLES) for (let i = 0; i < 3; i++) conns.set(`${role}${i}`, await FuzzConn.open(t.url, TOKENS[role]));
  // A method of a feature this agent runs without is not registered: it is unknown (-32601) to every role.
  // Probed as ingest, which may call no method, so the probe runs nothing (a registered one is FORBIDDEN).
  const absent = new Set<string>();
  for (const m of methods) {
    const r = await (conns.get('ingest0') as FuzzConn).call(m, {});
    if (r.error?.code === API.errors.METHOD_NOT_FOUND) absent.add(m);
  }
  const answers = new Set<Promise<void>>();
  const failures: string[] = [];
  for (const m of methods) {
    const callArb = fc.record({
      method: fc.constant(m),
      role: fc.constantFrom(...ROLES),
      conn: fc.nat(2),
      params: paramsArb(m, t),
    });
    await fc.assert(
      fc.asyncProperty(callArb, async ({ method, role, conn, params }) => {
        const c = conns.get(`${role}${conn}`) as FuzzConn;
        const what = `${role} ${method} ${JSON.stringify(params)?.slice(0, 300)}`;
        const need = API.methods[method]?.role;
        // Params that are not an object are refused before the method is looked at.
        const objectParams = params === undefined || (typeof params === 'object' && params !== null && !Array.isArray(params));
        const mustBeForbidden = need !== undefined && !absent.has(method) && objectParams && RANK[role] < RANK[need];
        const answered: Promise<void> = c.call(method, params).then(
          (r) => {
            const problem =
              undocumented(r) ?? (mustBeForbidden && r.error?.code !== API.errors.FORBIDDEN ? 'not FORBIDDEN' : null);
            if (problem) failures.push(`${what} -> ${problem}: ${JSON.stringify(r).slice(0, 300)}`);
          },
          (e: Error) => {
            failures.push(`${what} -> ${e.message}`);
          },
        );
        answers.add(answered);
        void answered.finally(() => answers.delete(answered));
        // At most 50 in flight at a time: the point is breadth, not a flood (the flood has its own test).
        if (answers.size >= 50) await Promise.race(answers);
      }),
      { numRuns: casesFor(m) },
    );
  }
  await Promise.all(answers);
  for (const [name, c] of conns) {
    if (c.closeCode !== null) failures.push(`connection ${name} closed with ${c.closeCode}`);
    if (c.strays.length) failures.push(`connection ${name} got stray messages: ${JSON.stringify(c.strays).slice(0, 300)}`);
    c.close();
  }
  return failures;
}

/** Device ids and their actions' params schemas, from devices.list and actions.list. */
export async function readDevices(url: string): Promise<Record<string, Record<string, JsonSchema>>> {
  const admin = await FuzzConn.open(url, TOKENS.admin);
  const out: Record<string, Record<string, JsonSchema>> = {};
  const devices = (await admin.call('devices.list', {})).result as { id: string }[];
  for (const d of devices) {
    const acts = (await admin.call('actions.list', { device: d.id })).result as { name: string; params: JsonSchema }[];
    out[d.id] = Object.fromEntries(acts.map((a) => [a.name, a.params]));
  }
  admin.close();
  return out;
}
