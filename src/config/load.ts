import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { parse, TomlError } from 'smol-toml';
import type { DriverRegistry } from '../host/registry.js';
import { describeAjvError } from '../util/ajv.js';
import { lineOf, locateKeys, type LineMap } from './locate.js';
import type { Config } from './schema.js';
import { valueHoldsSecret } from './secret-rule.js';
import { deviceValidator, validateConfigFile } from './validators.js';

export interface ConfigIssue {
  file: string;
  line?: number;
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${i.key ? `${i.key}: ` : ''}${i.message}`;
}

export interface LoadedConfig {
  config: Config;
  file: string;
  /** Key path → line, for later checks that want to point at the file. */
  lines: LineMap;
  /** Paths of values that came from ${ENV} (secrets): never echo them. */
  secretPaths: Set<string>;
  /**
   * The config version: `sha256:` and the first 16 hex digits of the SHA-256 of
   * the file's text as read (before ${ENV} substitution, so no secret value
   * enters it). config.history lists the versions (src/config/versions/).
   */
  version: string;
  /** The file's text as read (before ${ENV} substitution): what versioned config stores. */
  text: string;
}

/** The version a config text gets in status, system.info and /metrics (see LoadedConfig.version). */
export function configVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads, parses and validates api.toml; throws ConfigError listing every issue. */
export function loadConfig(file: string, registry: DriverRegistry, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, key: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseConfig(text, file, registry, env);
}

export function parseConfig(
  text: string,
  file: string,
  registry: DriverRegistry,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0];
      throw new ConfigError([{ file, line: e.line, key: '', message: `TOML syntax error: ${first} (column ${e.column})` }]);
    }
    throw e;
  }
  const lines = locateKeys(text);
  const issues: ConfigIssue[] = [];
  const secretPaths = new Set<string>();
  const at = (p: string[]) => lineOf(lines, p);

  // ${ENV} substitution, before validation so types are checked on real values.
  substituteEnv(raw, [], env, secretPaths, (p, name) =>
    issues.push({
      file,
      line: at(p),
      key: p.join('.'),
      message: `environment variable ${name} is not set (expected it to supply this value)`,
    }),
  );

  const data = structuredClone(raw);
  const report = (errors: readonly ErrorObject[] | null | undefined, base: string[] = []) => {
    for (const { error: e, message } of summarizeErrors(errors ?? [])) {
      const p = [...base, ...ajvPath(e.instancePath, e.params)];
      const found = valueAt(raw, p);
      issues.push({
        file,
        line: at(p),
        key: p.join('.'),
        message: explain(e, message, found, holdsSecret(p, found, secretPaths, raw)),
      });
    }
  };
  if (!validateConfigFile(data)) report(validateConfigFile.errors);

  const listed = (data.agent as { tokens?: unknown } | undefined)?.tokens;
  const tokens = (Array.isArray(listed) ? listed : []) as { token?: string; token_file?: string }[];
  tokens.forEach((t, i) => {
    if (t && typeof t === 'object' && (t.token === undefined) === (t.token_file === undefined)) {
      const p = ['agent', 'tokens', String(i)];
      issues.push({ file, line: at(p), key: p.join('.'), message: 'give exactly one of token or token_file' });
    }
  });

  const devices = (data.devices ?? {}) as Record<string, Record<string, unknown>>;
  for (const [id, dev] of Object.entries(devices)) {
    if (!dev || typeof dev !== 'object' || typeof dev.driver !== 'string') continue;
    const def = registry.get(dev.driver);
    const base = ['devices', id];
    if (!DEVICE_ID.test(id)) {
      issues.push({
        file,
        line: at(base),
        key: base.join('.'),
        message: `device id must be 1–64 letters, digits, "-" or "_", found ${JSON.stringify(id)}`,
      });
    }
    if (!def) {
      issues.push({
        file,
        line: at([...base, 'driver']),
        key: [...base, 'driver'].join('.'),
        message: `unknown driver "${dev.driver}"; expected one of: ${registry.names().join(', ')}`,
      });
      continue;
    }
    const v = deviceValidator(def.name, def.config);
    if (!v(dev)) report(v.errors, base);
    if (dev.simulated === true && !def.simulate) {
      issues.push({
        file,
        line: at([...base, 'simulated']),
        key: [...base, 'simulated'].join('.'),
        message: `driver ${def.name} has no simulator`,
      });
    }
  }
  if (issues.length) throw new ConfigError(dedupe(issues));
  return {
    config: data as unknown as Config,
    file: path.resolve(file),
    lines,
    secretPaths,
    version: configVersion(text),
    text,
  };
}

function ajvPath(instancePath: string, params: Record<string, unknown>): string[] {
  const p = instancePath
    ? instancePath
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    : [];
  if (typeof params.additionalProperty === 'string') p.push(params.additionalProperty);
  if (typeof params.missingProperty === 'string') p.push(params.missingProperty);
  return p;
}

/**
 * Ajv reports a union (`Type.Union` of literals → anyOf of const) as one error per branch plus
 * "must match a schema in anyOf". Each such group becomes one error with one message:
 * `expected one of "sony-udp", "raw-tcp"`, or `expected integer or string`.
 */
function summarizeErrors(errors: readonly ErrorObject[]): { error: ErrorObject; message?: string }[] {
  const out: { error: ErrorObject; message?: string }[] = [];
  const absorbed = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const branches = errors.filter(
      (b) => b !== e && b.instancePath === e.instancePath && b.schemaPath.startsWith(`${e.schemaPath}/`),
    );
    for (const b of branches) absorbed.add(b);
    // Branch i's errors have schemaPath "<anyOf>/i/…"; a branch that is a literal fails on const (and on type).
    const byBranch = new Map<string, ErrorObject[]>();
    for (const b of branches) {
      const i = b.schemaPath.slice(e.schemaPath.length + 1).split('/')[0] ?? '';
      byBranch.set(i, [...(byBranch.get(i) ?? []), b]);
    }
    const allowed = [...byBranch.values()].map((errs) => {
      const c = errs.find((b) => b.keyword === 'const' || b.keyword === 'enum');
      if (!c) return null;
      return c.keyword === 'const'
        ? [(c.params as { allowedValue: unknown }).allowedValue]
        : (c.params as { allowedValues: unknown[] }).allowedValues;
    });
    const types = branches.filter((b) => b.keyword === 'type').map((b) => (b.params as { type: string }).type);
    let message: string;
    if (allowed.length && allowed.every((a) => a !== null)) {
      message = `expected one of ${allowed
        .flat()
        .map((v) => JSON.stringify(v))
        .join(', ')}`;
    } else if (types.length === branches.length && branches.length) {
      message = `expected ${[...new Set(types)].join(' or ')}`;
    } else {
      // Mixed branches (say an object form and a string form): the branch messages, once each.
      const parts = [...new Set(branches.map((b) => describeAjvError(b).replace(/^[^:]*: /, '')))];
      message = `does not match any allowed form (${parts.join('; ') || 'see docs/config-reference.md'})`;
    }
    out.push({ error: e, message });
  }
  return [
    ...errors.filter((e) => !absorbed.has(e) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf').map((error) => ({ error })),
    ...out,
  ];
}

/** True when a value at `p` must not be echoed: from ${ENV} in any part, or a secret by src/config/secret-rule.ts. */
function holdsSecret(p: string[], found: unknown, secretPaths: ReadonlySet<string>, tree: unknown): boolean {
  const here = p.join('.');
  for (const s of secretPaths) if (s === here || s.startsWith(`${here}.`)) return true;
  return valueHoldsSecret(p, found, tree);
}

function explain(e: ErrorObject, summary: string | undefined, found: unknown, secret: boolean): string {
  const shown = secret ? '(value hidden: it is or holds a secret)' : JSON.stringify(found);
  if (summary) return `${summary}, found ${secret ? shown : `${typeName(found)} ${shown}`}`;
  switch (e.keyword) {
    case 'additionalProperties':
      return 'unknown key (check the spelling; see docs/config.md)';
    case 'required':
      return 'required key is missing';
    case 'type':
      return `expected ${(e.params as { type: string }).type}, found ${typeName(found)} ${shown}`;
    default: {
      const msg = describeAjvError(e);
      return `${msg.slice(msg.indexOf(': ') + 2)}, found ${shown}`;
    }
  }
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'date';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function valueAt(obj: unknown, p: string[]): unknown {
  let cur = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
function substituteEnv(
  node: Record<string, unknown> | unknown[],
  p: string[],
  env: NodeJS.ProcessEnv,
  secretPaths: Set<string>,
  missing: (p: string[], name: string) => void,
): void {
  const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : Object.entries(node);
  for (const [k, v] of entries) {
    const here = [...p, k];
    if (typeof v === 'string' && v.includes('${')) {
      let used = false;
      const out = v.replace(ENV_RE, (_m, name: string, dflt: string | undefined) => {
        used = true;
        const val = env[name];
        if (val !== undefined && val !== '') return val;
        if (dflt !== undefined) return dflt;
        missing(here, name);
        return '';
      });
      if (used) secretPaths.add(here.join('.'));
      (node as Record<string, unknown>)[k] = out;
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      substituteEnv(v as Record<string, unknown>, here, env, secretPaths, missing);
    }
  }
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const byLine = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return byLine.filter((i) => {
    const k = formatIssue(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
