// Maps dotted key paths of a TOML document to the line they were written on,
// so a validation error can say "api.toml:14". smol-toml gives positions only
// for syntax errors, hence this small scanner (tables, array tables, dotted
// keys, multi-line strings; inline values are located at their key).
export type LineMap = Map<string, number>;

function splitKey(raw: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const ch of raw.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '.') {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  parts.push(cur.trim());
  return parts.filter((p) => p.length > 0);
}

/** Index of the `=` that ends a key, ignoring `=` inside quoted key parts. */
function keyEnd(line: string): number {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '=') return i;
    else if (ch === '#') return -1;
  }
  return -1;
}

export function locateKeys(source: string): LineMap {
  const map: LineMap = new Map();
  const arrayCounts = new Map<string, number>();
  let table: string[] = [];
  let inMultiline: string | null = null;
  let depth = 0; // open brackets of a multi-line array value
  const lines = source.split(/\r?\n/);
  lines.forEach((text, i) => {
    const lineNo = i + 1;
    if (inMultiline) {
      if (text.includes(inMultiline)) inMultiline = null;
      return;
    }
    const t = text.trim();
    if (depth > 0) {
      depth += countBrackets(t);
      return;
    }
    if (!t || t.startsWith('#')) return;
    const arr = /^\[\[(.+)\]\]\s*(#.*)?$/.exec(t);
    if (arr) {
      const base = splitKey(arr[1]);
      const k = base.join('.');
      const n = arrayCounts.get(k) ?? 0;
      arrayCounts.set(k, n + 1);
      table = [...base, String(n)];
      if (!map.has(k)) map.set(k, lineNo);
      map.set(table.join('.'), lineNo);
      return;
    }
    const tab = /^\[(.+)\]\s*(#.*)?$/.exec(t);
    if (tab) {
      table = resolveArrayPrefix(splitKey(tab[1]), arrayCounts);
      for (let j = 1; j <= table.length; j++) {
        const p = table.slice(0, j).join('.');
        if (!map.has(p)) map.set(p, lineNo);
      }
      map.set(table.join('.'), lineNo);
      return;
    }
    const eq = keyEnd(t);
    if (eq > 0) {
      const key = [...table, ...splitKey(t.slice(0, eq))];
      for (let j = table.length + 1; j <= key.length; j++) {
        const p = key.slice(0, j).join('.');
        if (!map.has(p)) map.set(p, lineNo);
      }
      const value = t.slice(eq + 1).trim();
      for (const q of ['"""', "'''"]) {
        if (value.startsWith(q) && !value.slice(3).includes(q)) inMultiline = q;
      }
      if (!inMultiline && (value.startsWith('[') || value.startsWith('{'))) {
        indexInlineArray(value, key, lineNo, map);
        depth = countBrackets(value);
        if (depth > 0) recordMultilineArray(lines, i + 1, key, map);
      }
    }
  });
  return map;
}

// An inline array of tables `x = [{...}, {...}]` on one line: each element on that line.
function indexInlineArray(value: string, key: string[], lineNo: number, map: LineMap): void {
  if (!value.startsWith('[')) return;
  let n = 0;
  for (const ch of value.slice(1)) {
    if (ch === '{') map.set([...key, String(n++)].join('.'), lineNo);
  }
}

// Elements of a multi-line array get their own line, so `tokens[2]` points at it.
function recordMultilineArray(lines: string[], from: number, key: string[], map: LineMap): void {
  let n = 0;
  let depth = 1;
  for (let i = from; i < lines.length && depth > 0; i++) {
    const t = lines[i].trim();
    if (depth === 1 && t && !t.startsWith('#') && !t.startsWith(']')) map.set([...key, String(n++)].join('.'), i + 1);
    depth += countBrackets(t);
  }
}

function countBrackets(t: string): number {
  let d = 0;
  let quote: string | null = null;
  for (const ch of t) {
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') break;
    else if (ch === '[' || ch === '{') d++;
    else if (ch === ']' || ch === '}') d--;
  }
  return d;
}

// `[agent.tokens.x]` after `[[agent.tokens]]` refers to the latest element.
function resolveArrayPrefix(parts: string[], counts: Map<string, number>): string[] {
  const out: string[] = [];
  for (const p of parts) {
    out.push(p);
    const n = counts.get(out.join('.'));
    if (n !== undefined) out.push(String(n - 1));
  }
  return out;
}

/** The line of a key path, or of its nearest written ancestor. */
export function lineOf(map: LineMap, path: string[]): number | undefined {
  for (let j = path.length; j > 0; j--) {
    const l = map.get(path.slice(0, j).join('.'));
    if (l !== undefined) return l;
  }
  return undefined;
}
