// What grew between two heap snapshots of one process (the soak's min-<k>.heapsnapshot,
// SOAK_HEAP_AT): V8 keeps a node's id across the snapshots of one isolate, so the objects
// in the later snapshot whose ids the earlier one lacks were allocated in between and
// are still alive. Prints
// - per node name (constructor, or "(string)", "(closure) fn" …): count and self size
//   in each snapshot, and the change;
// - the new objects grouped by where they hang: each new object reachable from an old one
//   only through new objects is charged to that old holder (a path of up to four
//   retainers, names and edges), so "Map in MeetingCache.finals gained 60 entries of
//   1.5 KB" shows as one line.
// Usage: node --import tsx scripts/bench/soak-heap-diff.ts early.heapsnapshot late.heapsnapshot [top=30]
// With --retained Holder.prop,… it prints what each named holder retains instead (per-entry costs).
import fs from 'node:fs';

interface Snapshot {
  ids: Float64Array;
  names: string[];
  size: Float64Array;
  /** For each node, its retainers as (node, edge name) pairs; weak edges left out. */
  retainers: { node: number; edge: string }[][];
  /** For each node, its children (strong edges). */
  children: number[][];
}

const GROUPS_LEFT_OUT = new Set(['(system)']);

export function load(file: string): Snapshot {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const { meta } = raw.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [nType, nName, nId, nSize, nEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f),
  );
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = raw.nodes.length / nf;
  const ids = new Float64Array(count);
  const size = new Float64Array(count);
  const names: string[] = new Array(count);
  const retainers: { node: number; edge: string }[][] = Array.from({ length: count }, () => []);
  const children: number[][] = Array.from({ length: count }, () => []);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const o = i * nf;
    const type = nodeTypes[raw.nodes[o + nType]];
    const name = raw.strings[raw.nodes[o + nName]];
    ids[i] = raw.nodes[o + nId];
    size[i] = raw.nodes[o + nSize];
    names[i] =
      type === 'object' || type === 'native'
        ? name
        : type === 'closure'
          ? `(closure) ${name.slice(0, 40)}`
          : type === 'hidden' || type === 'object shape'
            ? `(${type}) ${name.slice(0, 40)}`
            : `(${type})`;
    for (let k = 0; k < raw.nodes[o + nEdges]; k++, e += ef) {
      const et = edgeTypes[raw.edges[e + eType]];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = raw.edges[e + eTo] / nf;
      const label = et === 'element' || et === 'hidden' ? `[${raw.edges[e + eName]}]` : String(raw.strings[raw.edges[e + eName]]);
      retainers[to].push({ node: i, edge: label.slice(0, 30) });
      children[i].push(to);
    }
  }
  return { ids, names, size, retainers, children };
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

/** A short retaining path above an old node: name.edge < name.edge …, preferring named properties. */
function pathOf(s: Snapshot, node: number, depth: number): string {
  const parts: string[] = [];
  let at = node;
  const seen = new Set<number>([at]);
  for (let d = 0; d < depth; d++) {
    const rs = s.retainers[at].filter((r) => !seen.has(r.node));
    if (rs.length === 0) break;
    const r = rs.find((x) => !x.edge.startsWith('[') && !s.names[x.node].startsWith('(')) ?? rs[0];
    parts.push(`${s.names[r.node]}.${r.edge}`);
    seen.add(r.node);
    at = r.node;
  }
  return parts.join(' < ');
}

export function diff(early: Snapshot, late: Snapshot, top: number): string {
  const out: string[] = [];
  const byName = new Map<string, { n0: number; s0: number; n1: number; s1: number }>();
  const add = (s: Snapshot, i: number, which: 0 | 1) => {
    const name = s.names[i];
    let g = byName.get(name);
    if (!g) byName.set(name, (g = { n0: 0, s0: 0, n1: 0, s1: 0 }));
    if (which === 0) {
      g.n0++;
      g.s0 += s.size[i];
    } else {
      g.n1++;
      g.s1 += s.size[i];
    }
  };
  for (let i = 0; i < early.ids.length; i++) add(early, i, 0);
  for (let i = 0; i < late.ids.length; i++) add(late, i, 1);
  const total0 = early.size.reduce((a, b) => a + b, 0);
  const total1 = late.size.reduce((a, b) => a + b, 0);
  out.push(`heap (self sizes): ${kb(total0)} → ${kb(total1)} (${kb(total1 - total0)})`);
  out.push('', `by node name (top ${top} by change of self size):`);
  const rows = [...byName]
    .filter(([n]) => !GROUPS_LEFT_OUT.has(n))
    .sort((a, b) => Math.abs(b[1].s1 - b[1].s0) - Math.abs(a[1].s1 - a[1].s0));
  for (const [name, g] of rows.slice(0, top)) {
    out.push(
      `  ${kb(g.s1 - g.s0).padStart(10)}  ${String(g.n1 - g.n0).padStart(7)} objects  (${g.n0} → ${g.n1})  ${name.slice(0, 70)}`,
    );
  }

  // New objects (ids the early snapshot lacks), charged to the old object they hang from.
  const old = new Set<number>();
  for (const id of early.ids) old.add(id);
  const isNew = (i: number) => !old.has(late.ids[i]);
  const owner = new Int32Array(late.ids.length).fill(-1);
  const holders = new Map<string, { roots: number; objects: number; bytes: number }>();
  let newBytes = 0;
  let newObjects = 0;
  for (let i = 0; i < late.ids.length; i++) {
    if (!isNew(i) || owner[i] !== -1) continue;
    const oldRetainer = late.retainers[i].find((r) => !isNew(r.node));
    if (!oldRetainer) continue;
    // A root of new memory: walk down through new objects not yet charged.
    const key = `${late.names[i].slice(0, 40)} in ${late.names[oldRetainer.node]}.${oldRetainer.edge} < ${pathOf(late, oldRetainer.node, 3)}`;
    let g = holders.get(key);
    if (!g) holders.set(key, (g = { roots: 0, objects: 0, bytes: 0 }));
    g.roots++;
    const stack = [i];
    owner[i] = i;
    while (stack.length) {
      const n = stack.pop() as number;
      g.objects++;
      g.bytes += late.size[n];
      newObjects++;
      newBytes += late.size[n];
      for (const c of late.children[n]) {
        if (owner[c] === -1 && isNew(c)) {
          owner[c] = i;
          stack.push(c);
        }
      }
    }
  }
  out.push('', `new objects still alive: ${newObjects} (${kb(newBytes)}), by holder (top ${top}):`);
  for (const [key, g] of [...holders].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    out.push(`  ${kb(g.bytes).padStart(10)}  ${String(g.objects).padStart(7)} objects in ${g.roots} roots: ${key.slice(0, 230)}`);
  }
  return out.join('\n');
}

/**
 * Bytes only reachable through `holder` ("Class.property", e.g. "MeetingCache.finals"; esbuild may
 * suffix the class name with a digit; a module-level `let`/`const` is "Context.name"): what
 * freeing it would free. Node 0 is the snapshot's root.
 */
export function retained(s: Snapshot, holder: string): { bytes: number; objects: number } | undefined {
  const [cls, prop] = holder.split('.');
  const owner = new RegExp(`^(system / )?${cls}\\d*$`);
  let target = -1;
  for (let i = 0; i < s.ids.length && target < 0; i++) {
    if (s.retainers[i].some((r) => r.edge === prop && owner.test(s.names[r.node]))) target = i;
  }
  if (target < 0) return undefined;
  const reach = (from: number, skip: number, mark: Uint8Array) => {
    const stack = [from];
    mark[from] = 1;
    while (stack.length) {
      for (const c of s.children[stack.pop() as number]) {
        if (c !== skip && !mark[c]) {
          mark[c] = 1;
          stack.push(c);
        }
      }
    }
  };
  const without = new Uint8Array(s.ids.length);
  reach(0, target, without);
  const through = new Uint8Array(s.ids.length);
  reach(target, -1, through);
  let bytes = 0;
  let objects = 0;
  for (let i = 0; i < s.ids.length; i++) {
    if (through[i] && !without[i]) {
      bytes += s.size[i];
      objects++;
    }
  }
  return { bytes, objects };
}

// Usage: soak-heap-diff.ts a.heapsnapshot b.heapsnapshot [top]   — what grew from a to b
//        soak-heap-diff.ts --retained Holder.prop,… a.heapsnapshot …  — what each holder retains
if (process.argv[1]?.endsWith('soak-heap-diff.ts')) {
  const args = process.argv.slice(2);
  if (args[0] === '--retained') {
    const holders = (args[1] ?? '').split(',');
    for (const file of args.slice(2)) {
      const s = load(file);
      for (const h of holders) {
        const r = retained(s, h);
        process.stdout.write(`${file}: ${h} ${r ? `${kb(r.bytes)} in ${r.objects} objects` : 'not found'}\n`);
      }
    }
  } else if (args.length >= 2) {
    process.stdout.write(`${diff(load(args[0]), load(args[1]), Number(args[2] ?? 30))}\n`);
  } else {
    process.stderr.write('usage: soak-heap-diff.ts [--retained Holder.prop,…] <a.heapsnapshot> [<b.heapsnapshot> [top]]\n');
    process.exit(2);
  }
}
