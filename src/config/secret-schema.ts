// Secrets are declared where their key is defined: a config schema property
// carries `'x-secret': true` (SECRET_KEYWORD) and src/config/secret-rule.ts
// hides its value in every error, log line, config.get and config.history.
// A property whose name looks like a secret (the name rule in secret-rule.ts:
// password, token, …) but holds none says so with `'x-secret': false`;
// test/secret-schema.test.ts requires one or the other on every such name, so
// a new driver cannot forget. Ajv knows the keyword (src/util/ajv.ts): it
// changes no validation. Pure.
import { type StringOptions, type TSchema, Type } from '@sinclair/typebox';

/** The schema keyword that marks a config value as a secret (true) or as not one despite its name (false). */
export const SECRET_KEYWORD = 'x-secret';

/** A string config value that is a secret (a password, token, PIN, a URL that is its own credential). */
export function secretString(options: StringOptions = {}) {
  return Type.String({ ...options, [SECRET_KEYWORD]: true });
}

type Node = Record<string, unknown>;
const INDEX = /^\d+$/;

function asNode(v: unknown): Node | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

/** What a schema says of its value: true (secret), false (declared not secret) or undefined (says nothing). */
export function declaredSecret(schema: unknown): boolean | undefined {
  const s = asNode(schema);
  if (!s) return undefined;
  const own = s[SECRET_KEYWORD];
  if (typeof own === 'boolean') return own;
  // An array of secrets, or a union with a secret branch (a string or a list of them).
  if (declaredSecret(s.items) === true) return true;
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = s[k];
    if (Array.isArray(branches) && branches.some((b) => declaredSecret(b) === true)) return true;
  }
  return undefined;
}

/** The schemas `key` may lead to from `schema` (an object's property, a table's entry, an array's element). */
function children(schema: unknown, key: string): unknown[] {
  const s = asNode(schema);
  if (!s) return [];
  const out: unknown[] = [];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = s[k];
    if (Array.isArray(branches)) for (const b of branches) out.push(...children(b, key));
  }
  const props = asNode(s.properties);
  if (props && Object.hasOwn(props, key)) out.push(props[key]);
  else {
    const patterns = asNode(s.patternProperties);
    if (patterns) for (const [re, sub] of Object.entries(patterns)) if (new RegExp(re, 'u').test(key)) out.push(sub);
    if (asNode(s.additionalProperties)) out.push(s.additionalProperties);
  }
  if (s.items !== undefined && INDEX.test(key)) out.push(s.items);
  return out;
}

/** True when the value at `path` under `schema` is declared a secret by its own schema or an enclosing one. */
export function schemaMarksSecret(schema: TSchema | unknown, path: readonly string[]): boolean {
  let here: unknown[] = [schema];
  for (const key of path) {
    here = here.flatMap((s) => children(s, key));
    if (here.length === 0) return false;
    if (here.some((s) => declaredSecret(s) === true)) return true;
  }
  return false;
}

/** Every property path of `schema` (`*` for a table's entries, `[]` for array elements) with its schema. */
export function schemaProperties(schema: unknown, prefix: string[] = []): { path: string[]; name: string; schema: Node }[] {
  const s = asNode(schema);
  if (!s) return [];
  const out: { path: string[]; name: string; schema: Node }[] = [];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = s[k];
    if (Array.isArray(branches)) for (const b of branches) out.push(...schemaProperties(b, prefix));
  }
  for (const [name, sub] of Object.entries(asNode(s.properties) ?? {})) {
    const node = asNode(sub);
    if (!node) continue;
    out.push({ path: [...prefix, name], name, schema: node }, ...schemaProperties(node, [...prefix, name]));
  }
  for (const sub of Object.values(asNode(s.patternProperties) ?? {})) out.push(...schemaProperties(sub, [...prefix, '*']));
  if (asNode(s.additionalProperties)) out.push(...schemaProperties(s.additionalProperties, [...prefix, '*']));
  if (s.items !== undefined) out.push(...schemaProperties(s.items, [...prefix, '[]']));
  return out;
}
