// Agent code (src/, drivers/) stays off ICU's locale machinery: Intl's
// formatters, String#localeCompare and the toLocale* methods load ICU's
// collation or formatting code and data into every agent (the collator alone
// ~4 MB of RSS; docs/performance.md). Biome's lint rule only sees the global
// `Intl`, not a method call on a string or a date, so this reads the syntax
// tree of every non-test source file. The one allowed user is the time-zone
// fallback src/calendar/intl-zone.ts, loaded only for a zone the OS lacks.
// src/console/web/ is not agent code: it is the console's browser bundle,
// where formatting for the operator's locale is the point.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const ALLOWED = new Set(['src/calendar/intl-zone.ts']);
const BROWSER = 'src/console/web/';

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')));
}

/** Every use of Intl, localeCompare or toLocale* in a file's code (comments and strings do not count). */
function localeUses(file: string, text: string): string[] {
  const sf = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const found: string[] = [];
  const banned = (name: string) => name === 'Intl' || name === 'localeCompare' || name.startsWith('toLocale');
  const at = (n: ts.Node, what: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
    found.push(`${file}:${line + 1}: ${what}`);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && banned(n.text)) at(n, n.text);
    else if (ts.isPrivateIdentifier(n)) {
      // not a locale API
    } else if (
      ts.isElementAccessExpression(n) &&
      ts.isStringLiteralLike(n.argumentExpression) &&
      banned(n.argumentExpression.text)
    ) {
      at(n, `[${JSON.stringify(n.argumentExpression.text)}]`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('agent code uses no Intl, localeCompare or toLocale*', () => {
  it('finds each form in a sample, and nothing in comments or strings', () => {
    const sample = [
      "// Intl and localeCompare in a comment are fine; 'toLocaleString' in a string too",
      'const a = x.localeCompare(y);',
      'const b = new Intl.DateTimeFormat();',
      'const c = d.toLocaleTimeString();',
      "const e = s['localeCompare'](t);",
      'const f = globalThis.Intl;',
    ].join('\n');
    expect(localeUses('sample.ts', sample)).toEqual([
      'sample.ts:2: localeCompare',
      'sample.ts:3: Intl',
      'sample.ts:4: toLocaleTimeString',
      'sample.ts:5: ["localeCompare"]',
      'sample.ts:6: Intl',
    ]);
  });

  it('in src/ and drivers/ (except the time-zone fallback)', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('drivers')].filter((f) => !ALLOWED.has(f) && !f.startsWith(BROWSER));
    expect(files.length).toBeGreaterThan(100);
    const uses = files.flatMap((f) => localeUses(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(uses).toEqual([]);
  });
});
