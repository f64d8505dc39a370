// The host's backstop against a driver echoing its own secrets (issue 16,
// "Secrets"): what a driver writes at run time — status messages, reported
// errors, errors thrown from actions, log lines — passes through the device's
// scrubber, which replaces every occurrence of one of the device's secret
// config values (or a natural piece of one) with `«secret devices.<id>.<key>»`.
// The secrets are the values src/config/secret-rule.ts calls secret (the
// `'x-secret'` schema declarations and the name rule), plus a password or a
// credential-like query parameter inside a URL anywhere in the device config.
// One regex per device, built when the device is registered (boot, reload);
// a device without secrets gets no scrubber and costs nothing.
import type { Logger } from 'pino';
import type { DeviceConfig } from '../config/schema.js';
import { isSecretKey, keyPathOf, nameIsSecret, URL_IN_TEXT } from '../config/secret-rule.js';
import { isSecretParam } from '../video/redact.js';
import { AgentError, DeviceError } from '../util/errors.js';

/** Shorter values are not scrubbed: a 3-character "secret" would blank ordinary words everywhere. */
export const MIN_SECRET_CHARS = 4;
/** A path segment of a secret URL that is a plain lowercase word this short (`calendar.ics`) is not the credential. */
const PLAIN_SEGMENT = /^[a-z._-]{1,15}$/;
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `key=` at the start of a `key=value; key=value` pair (a connection string). */
const PAIR_KEY = /(?:^|;)\s*([A-Za-z][\w -]*?)\s*=/g;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
/** How deep a logged object or an error's data is scrubbed; deeper values are replaced whole. */
const MAX_DEPTH = 8;

export interface SecretScrubber {
  /** `text` with every secret replaced by the name of its key. */
  text(text: string): string;
  /** A copy of `value` with every string in it scrubbed (objects, arrays, errors). */
  value(value: unknown): unknown;
  /** An action's error with its message and data scrubbed (the same class and code); the error itself when clean. */
  error(e: unknown): unknown;
  /** A logger whose lines (message, format arguments, fields, errors) are scrubbed, and so are its children's. */
  logger(logger: Logger): Logger;
}

/** The device's secret texts, each mapped to the config key it came from (`devices.<id>.<key>`). */
export function deviceSecrets(id: string, config: DeviceConfig): Map<string, string> {
  const found = new Map<string, string>();
  const tree = { devices: { [id]: config } };
  const add = (text: string, label: string) => {
    if (text.length >= MIN_SECRET_CHARS && !found.has(text)) found.set(text, label);
  };
  const walk = (v: unknown, path: string[], inSecret: boolean) => {
    const secret = inSecret || (path.length > 0 && isSecretKey(['devices', id, ...path], tree));
    const label = `devices.${id}.${keyPathOf(path).join('.')}`;
    if (typeof v === 'string') {
      if (secret) secretPieces(v, (piece) => add(piece, label));
      else urlCredentials(v, (piece) => add(piece, label));
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      if (secret) add(String(v), label);
    } else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, [...path, k], secret);
    }
  };
  walk(config, [], false);
  return found;
}

/** The scrubber for a device's config; null when the config holds no secret. */
export function secretScrubber(id: string, config: DeviceConfig): SecretScrubber | null {
  const secrets = deviceSecrets(id, config);
  if (secrets.size === 0) return null;
  // Longest first: a whole value wins over a piece of it at the same place.
  const alternatives = [...secrets.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(alternatives.join('|'), 'g');
  let hits = 0; // how many replacements so far: tells whether an error needs a scrubbed copy
  const replace = (m: string) => {
    hits++;
    return `«secret ${secrets.get(m) ?? `devices.${id}`}»`;
  };
  const text = (s: string) => s.replace(pattern, replace);
  const value = (v: unknown, depth = 0): unknown => {
    if (typeof v === 'string') return text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return '«scrubbed: nested too deep»';
    if (v instanceof Error) return scrubError(v, text, (x) => value(x, depth + 1));
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    if (ArrayBuffer.isView(v) || v instanceof Date) return v;
    // A URL (or anything with toJSON) is logged as what toJSON gives: scrub that, not its empty own fields.
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return value(toJSON.call(v), depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = value(x, depth + 1);
    return out;
  };
  const error = (e: unknown): unknown => {
    if (!(e instanceof AgentError)) return e instanceof Error ? scrubError(e, text, value) : text(String(e));
    const before = hits;
    const message = text(e.message);
    const data = e.data === undefined ? undefined : value(e.data);
    if (hits === before) return e;
    return e instanceof DeviceError ? new DeviceError(message, e.code, data) : new AgentError(e.code, message, data);
  };
  const scrubArgs = (args: unknown[]) => args.map((a) => value(a));
  return { text, value, error, logger: (l) => scrubbingLogger(l, scrubArgs, value) };
}

/** An error of the same name with its message, stack and own fields scrubbed. */
function scrubError(e: Error, text: (s: string) => string, value: (v: unknown) => unknown): Error {
  const copy = new Error(text(e.message));
  copy.name = e.name;
  copy.stack = e.stack === undefined ? undefined : text(e.stack);
  for (const [k, x] of Object.entries(e)) (copy as unknown as Record<string, unknown>)[k] = value(x);
  return copy;
}

/**
 * A child of `base` whose log methods scrub their arguments before pino formats them. Its level
 * methods look up the parent's at each call, so a level change of the agent's logger still counts;
 * pino's `hooks.logMethod` (a root-only option) is set on the child too, so a grandchild made with
 * its own level, or a level set on it later, scrubs as well. A child's bindings are scrubbed when it is made.
 */
function scrubbingLogger(base: Logger, scrubArgs: (args: unknown[]) => unknown[], scrubValue: (v: unknown) => unknown): Logger {
  const child = base.child({});
  const hooksSym = Symbol.for('pino.hooks');
  const parentHooks = (base as unknown as Record<symbol, Record<string, unknown>>)[hooksSym] ?? {};
  const parentHook = parentHooks.logMethod as
    | ((this: Logger, args: unknown[], method: unknown, level: number) => void)
    | undefined;
  (child as unknown as Record<symbol, unknown>)[hooksSym] = {
    ...parentHooks,
    logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void, level: number) {
      const scrubbed = scrubArgs(args);
      if (parentHook) parentHook.call(this, scrubbed, method, level);
      else method.apply(this, scrubbed);
    },
  };
  for (const level of LOG_LEVELS) {
    Object.defineProperty(child, level, {
      configurable: true,
      writable: true,
      value: function scrubbedLog(this: Logger, ...args: unknown[]) {
        if (!this.isLevelEnabled(level)) return;
        (base[level] as (...a: unknown[]) => void).apply(this, scrubArgs(args));
      },
    });
  }
  Object.defineProperty(child, 'child', {
    configurable: true,
    writable: true,
    value: function scrubbedChild(this: Logger, bindings: Record<string, unknown>, options?: object) {
      return (base.child as unknown as (b: unknown, o?: object) => Logger).call(this, scrubValue(bindings), options);
    },
  });
  return child;
}

/** The secret's texts to hide: the whole value, its URL-encoded form, and the pieces a driver may quote. */
function secretPieces(value: string, add: (piece: string) => void): void {
  add(value);
  add(encodeURIComponent(value));
  if (URL_START.test(value.trim())) urlPieces(value.trim(), add);
  else if (value.includes('=') && value.includes(';')) connectionStringPieces(value, add);
}

/** In a secret URL: its userinfo password, query values and path segments (raw and decoded), never the host. */
function urlPieces(text: string, add: (piece: string) => void): void {
  const url = parseUrl(text);
  if (!url) return;
  addEncoded(url.password, add);
  for (const [, v] of url.searchParams) addEncoded(v, add);
  if (url.hash.length > 1) addEncoded(url.hash.slice(1), add);
  for (const segment of url.pathname.split('/')) {
    const decoded = safeDecode(segment);
    if (!PLAIN_SEGMENT.test(decoded)) addEncoded(decoded, add);
  }
}

/** In a text that is not itself secret: the password and credential-like query values of each URL in it. */
function urlCredentials(text: string, add: (piece: string) => void): void {
  for (const m of text.match(URL_IN_TEXT) ?? []) {
    const url = parseUrl(m);
    if (!url) continue;
    addEncoded(url.password, add);
    for (const [k, v] of url.searchParams) if (isSecretParam(k)) addEncoded(v, add);
  }
}

/**
 * `server=…; user=…; password=…`: the value of each secret-named key (a quoted value unquoted,
 * `""` as `"`), and for an unquoted one that holds `;` (malformed: it runs to the next `key=`) each
 * `;`-separated piece — what a parser's "expected key=value near …" would have quoted.
 */
function connectionStringPieces(text: string, add: (piece: string) => void): void {
  const keys = [...text.matchAll(PAIR_KEY)];
  keys.forEach((k, i) => {
    const key = (k[1] ?? '').replace(/[\s_-]/g, '');
    if (!nameIsSecret(key) && !/^pwd$/i.test(key)) return;
    const start = (k.index ?? 0) + k[0].length;
    let raw = text.slice(start, keys[i + 1]?.index ?? text.length).trim();
    const quoted = /^"((?:[^"]|"")*)"/.exec(raw);
    if (quoted) raw = (quoted[1] ?? '').replace(/""/g, '"');
    add(raw);
    add(raw.replace(/;+$/, '').trim());
    for (const piece of raw.split(';')) add(piece.trim());
  });
}

/** The URL `text` spells; null when it is not one. */
function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function addEncoded(raw: string, add: (piece: string) => void): void {
  if (raw === '') return;
  add(raw);
  const decoded = safeDecode(raw);
  add(decoded);
  add(encodeURIComponent(decoded));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
