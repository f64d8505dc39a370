// The config text as `config.get` shows it: `${NAME}` references stay (they
// are not secrets), literal secret values are replaced by a placeholder that
// names their key, `"(redacted: devices.matrix.password)"`. A client may send
// the text back to `config.apply` with placeholders left in: each is replaced
// by the running config's value for that same key, so a round trip through
// get → edit → apply never needs (nor reveals) the secret. Pure.
//
// A value is a literal secret when its own key holds a secret (the rule
// shared with check-config and every config error, src/config/secret-rule.ts:
// secret key names, webhook URLs, an ICS calendar's url) and it is not made
// only of `${NAME}` references (a connection string with a reference for its
// password and a literal server is still hidden whole); or when it holds a URL
// with a literal password or a credential-like query parameter.
import { parse, stringify } from 'smol-toml';
import type { ConfigIssue } from '../load.js';
import { lineOf, locateKeys } from '../locate.js';
import { isSecretKey, urlHoldsCredential } from '../secret-rule.js';

export interface LiteralSecret {
  path: string[];
  value: string;
}

const ONLY_REF = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;

export function placeholder(path: readonly string[]): string {
  return `(redacted: ${path.join('.')})`;
}
const PLACEHOLDER = /^\(redacted: ([^)]*)\)$/;

function isLiteral(v: string): boolean {
  return v !== '' && !ONLY_REF.test(v);
}

/** Every string value of the raw (not substituted) TOML tree that is a literal secret. */
export function literalSecrets(raw: unknown): LiteralSecret[] {
  const out: LiteralSecret[] = [];
  // A string is secret by its own key (for an array element, the array's key): src/config/secret-rule.ts.
  const walk = (v: unknown, p: string[]) => {
    if (typeof v === 'string') {
      if ((isSecretKey(p, raw) && isLiteral(v)) || urlHoldsCredential(v, isLiteral)) out.push({ path: p, value: v });
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...p, String(i)]);
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    }
  };
  walk(raw, []);
  return out;
}

interface StringToken {
  start: number;
  end: number;
  value: string;
}

/** The single-line string tokens of a TOML line, before any comment (multi-line strings are not found). */
function stringTokens(line: string): StringToken[] {
  const out: StringToken[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === '#') break;
    if (ch === '"' || ch === "'") {
      if (line.startsWith(ch.repeat(3), i)) return out; // multi-line string: not handled here
      let j = i + 1;
      while (j < line.length && line[j] !== ch) j += ch === '"' && line[j] === '\\' ? 2 : 1;
      if (j >= line.length) return out;
      const token = line.slice(i, j + 1);
      try {
        const value = (parse(`v = ${token}`) as { v: unknown }).v;
        if (typeof value === 'string') out.push({ start: i, end: j + 1, value });
      } catch {
        // not a string token after all
      }
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

/** A TOML basic string holding `s` (JSON escapes are TOML escapes; DEL must be escaped too). */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\u007f/g, '\\u007F');
}

function valueAt(obj: unknown, p: readonly string[]): unknown {
  let cur = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function setAt(obj: unknown, p: readonly string[], v: unknown): void {
  let cur = obj as Record<string, unknown>;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[p[p.length - 1] as string] = v;
}

/** Replaces, line by line from each value's own line, the string token holding `value` by `replacement`. */
function replaceTokens(text: string, items: { path: string[]; value: string; replacement: string }[]): string {
  const lines = text.split('\n');
  const map = locateKeys(text);
  for (const it of items) {
    const from = (lineOf(map, it.path) ?? 1) - 1;
    for (let i = from; i < lines.length && i < from + 200; i++) {
      const line = lines[i] as string;
      const t = stringTokens(line).find((x) => x.value === it.value);
      if (!t) continue;
      lines[i] = line.slice(0, t.start) + it.replacement + line.slice(t.end);
      break;
    }
  }
  return lines.join('\n');
}

function holds(text: string, expected: { path: string[]; value: string }[]): boolean {
  try {
    const doc = parse(text);
    return expected.every((e) => valueAt(doc, e.path) === e.value);
  } catch {
    return false;
  }
}

/**
 * The text with every literal secret replaced by its placeholder. Comments and layout are kept; where
 * a secret cannot be found on its line (a multi-line string), the document is re-written from its
 * values instead (comments dropped) so that nothing secret is ever shown.
 */
export function redactText(text: string): string {
  const raw = parse(text);
  const secrets = literalSecrets(raw);
  if (secrets.length === 0) return text;
  const shown = secrets.map((s) => ({ path: s.path, value: placeholder(s.path) }));
  const out = replaceTokens(
    text,
    secrets.map((s) => ({ ...s, replacement: tomlString(placeholder(s.path)) })),
  );
  if (holds(out, shown) && literalSecrets(parse(out)).every((s) => PLACEHOLDER.test(s.value))) return out;
  const copy = structuredClone(raw);
  for (const s of shown) setAt(copy, s.path, s.value);
  return `# Shown without comments: a secret sits where it could not be redacted in place.\n${stringify(copy)}\n`;
}

/**
 * Puts the running config's secrets back where `next` holds their placeholders. A placeholder may
 * stay only at its own key, and only for a secret the running config has there.
 */
export function restoreRedacted(next: string, running: string, file: string): { text: string } | { issues: ConfigIssue[] } {
  if (!next.includes('(redacted: ')) return { text: next };
  let doc: unknown;
  try {
    doc = parse(next);
  } catch {
    return { text: next }; // the syntax error is reported by the normal check
  }
  const runningSecrets = new Map(literalSecrets(parse(running)).map((s) => [s.path.join('.'), s.value]));
  const map = locateKeys(next);
  const issues: ConfigIssue[] = [];
  const items: { path: string[]; value: string; replacement: string }[] = [];
  const walk = (v: unknown, p: string[]): void => {
    if (typeof v === 'string') {
      const m = PLACEHOLDER.exec(v);
      if (!m) return;
      const key = p.join('.');
      const issue = (message: string) => issues.push({ file, line: lineOf(map, p), key, message });
      if (m[1] !== key) issue(`holds the placeholder of ${m[1]}; a redacted value can only stay at its own key`);
      else if (!runningSecrets.has(key)) {
        issue('holds a redaction placeholder, but the running config has no secret here; write the value or a ${NAME} reference');
      } else items.push({ path: p, value: v, replacement: tomlString(runningSecrets.get(key) as string) });
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...p, String(i)]);
    } else if (v && typeof v === 'object' && !(v instanceof Date)) for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(doc, []);
  if (issues.length) return { issues };
  const text = replaceTokens(next, items);
  const restored = items.map((it) => ({ path: it.path, value: runningSecrets.get(it.path.join('.')) as string }));
  if (!holds(text, restored)) {
    const first = items.find((it) => !holds(text, [{ path: it.path, value: runningSecrets.get(it.path.join('.')) as string }]));
    const p = first?.path ?? [];
    return {
      issues: [
        {
          file,
          line: lineOf(map, p),
          key: p.join('.'),
          message:
            'a redaction placeholder inside a multi-line string cannot be restored; write the value or a ${NAME} reference',
        },
      ],
    };
  }
  return { text };
}

/** A text read from disk must not hold config.get's placeholders: each one is an issue (nothing is filled in). */
export function placeholderIssues(text: string, file: string): ConfigIssue[] {
  if (!text.includes('(redacted: ')) return [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return []; // the syntax error is reported by the normal check
  }
  const map = locateKeys(text);
  const issues: ConfigIssue[] = [];
  const walk = (v: unknown, p: string[]): void => {
    if (typeof v === 'string' && PLACEHOLDER.test(v)) {
      issues.push({
        file,
        line: lineOf(map, p),
        key: p.join('.'),
        message: 'holds a redaction placeholder from config.get; in the file write the value or a ${NAME} reference',
      });
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...p, String(i)]);
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    }
  };
  walk(doc, []);
  return issues;
}
