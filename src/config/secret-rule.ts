// Which config values are secrets: the one rule behind every place the
// agent shows config text or a value from it — load and check-config errors,
// reload and config.apply errors (src/config/load.ts), and config.get /
// config.history (src/config/versions/redact.ts). Pure.
//
// A value is a secret when
// - its schema says so where the key is defined (`'x-secret': true`, see
//   src/config/secret-schema.ts): the agent's sections (ConfigSchema) and each
//   driver's config schema, known once the driver is registered
//   (DriverRegistry.register calls declareDriverSecrets) — an `ics` calendar's
//   `url`, the TrueConf `connectionString`, a camera's `auth`, a feed URL;
// - its key names a secret (SECRET_KEY: password, token, pin, key, …) or a
//   webhook (a Slack incoming-webhook URL is its own credential): the safety
//   net for a schema that forgot (test/secret-schema.test.ts requires every
//   such name to be declared one way or the other);
// - it holds a URL with a password in its userinfo (`mqtt://user:pw@host`) or
//   a credential-like query parameter (`?token=…`, `?sig=…`).
import type { TSchema } from '@sinclair/typebox';
import { isSecretParam } from '../video/redact.js';
import { ConfigSchema } from './schema.js';
import { schemaMarksSecret } from './secret-schema.js';

/** Key names whose values are secrets wherever they appear. */
export const SECRET_KEY =
  /(token|password|passwd|pwd|secret|credential|connection_?string|api_?key|private_?key|(^|_)pin($|_)|(^|_)key$)/i;
/** Webhook URLs are their own credential (`alerts.slack_webhook_url`). */
const WEBHOOK_KEY = /webhook/i;
/** True when a key's name alone makes its value a secret (the safety net behind the schemas' declarations). */
export function nameIsSecret(key: string): boolean {
  return SECRET_KEY.test(key) || WEBHOOK_KEY.test(key);
}

/** Each registered driver's config schema, by driver name: where its secret keys are declared. */
const driverSchemas = new Map<string, TSchema>();

/**
 * Makes the secrets a driver's config schema declares known to every place that shows config text.
 * Called by DriverRegistry.register; a later schema under the same name replaces the earlier one.
 */
export function declareDriverSecrets(driver: string, configSchema: TSchema): void {
  driverSchemas.set(driver, configSchema);
}

/** A URL anywhere in a text (global: use with `match`/`matchAll`). */
export const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi;
const INDEX = /^\d+$/;

/** `path` without the array indexes at its end: an element of an array is held by the array's key. */
export function keyPathOf(path: readonly string[]): readonly string[] {
  let end = path.length;
  while (end > 0 && INDEX.test(path[end - 1] as string)) end--;
  return end === path.length ? path : path.slice(0, end);
}

/** Any non-empty text counts as a literal unless the caller says otherwise (redact.ts: not only `${NAME}`). */
const nonEmpty = (s: string) => s !== '';

/**
 * True when the key at `path` (the path of a value in the config tree; array indexes at its end are
 * skipped, an element of an array is held by the array's key) holds a secret. `tree` is the config
 * the path is in, for rules that depend on a device's driver.
 */
export function isSecretKey(path: readonly string[], tree: unknown): boolean {
  const keyPath = keyPathOf(path);
  const key = keyPath[keyPath.length - 1];
  if (key === undefined) return false;
  if (nameIsSecret(key)) return true;
  if (keyPath[0] === 'devices') {
    if (keyPath.length < 3) return false;
    const schema = driverSchemas.get(deviceDriver(tree, keyPath[1] as string) ?? '');
    return schema !== undefined && schemaMarksSecret(schema, keyPath.slice(2));
  }
  return schemaMarksSecret(ConfigSchema, keyPath);
}

function deviceDriver(tree: unknown, id: string): string | undefined {
  const devices = own(tree, 'devices');
  const driver = own(own(devices, id), 'driver');
  return typeof driver === 'string' ? driver : undefined;
}

function own(v: unknown, k: string): unknown {
  return v !== null && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
}

/**
 * True when a URL in `text` carries a password in its userinfo or a credential-like query or fragment
 * parameter whose value `isLiteral` (by default: non-empty).
 */
export function urlHoldsCredential(text: string, isLiteral: (s: string) => boolean = nonEmpty): boolean {
  for (const url of text.match(URL_IN_TEXT) ?? []) {
    const body = url.slice(url.indexOf('://') + 3);
    const authorityEnd = body.search(/[/?#]/);
    const authority = authorityEnd < 0 ? body : body.slice(0, authorityEnd);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      const colon = userinfo.indexOf(':');
      if (colon >= 0 && isLiteral(userinfo.slice(colon + 1))) return true;
    }
    const q = body.search(/[?#]/);
    if (q >= 0) {
      for (const pair of body.slice(q + 1).split(/[&#]/)) {
        const eq = pair.indexOf('=');
        if (eq > 0 && isSecretParam(pair.slice(0, eq)) && isLiteral(pair.slice(eq + 1))) return true;
      }
    }
  }
  return false;
}

/**
 * For an error about the value at `path`: true when it must not be echoed — a key on its path or
 * inside it holds a secret (a value inside a secret is secret), or a string in it holds a URL
 * credential. Errors hide more than config.get does: a malformed value may be a secret in the wrong
 * place.
 */
export function valueHoldsSecret(path: readonly string[], value: unknown, tree: unknown): boolean {
  for (let i = 1; i <= path.length; i++) if (isSecretKey(path.slice(0, i), tree)) return true;
  const walk = (v: unknown, p: string[]): boolean => {
    if (typeof v === 'string') return urlHoldsCredential(v);
    if (v === null || typeof v !== 'object' || v instanceof Date) return false;
    return Object.entries(v as Record<string, unknown>).some(([k, x]) => isSecretKey([...p, k], tree) || walk(x, [...p, k]));
  };
  return walk(value, [...path]);
}
