// Bytes allocated per call by allocation site, from a sampling heap profile
// (scripts/visca-alloc.ts PROBE_HEAP=seq|spread|cold writes one), with the
// agent bundle's frames mapped to src/ through its source map.
//
//   node_modules/.bin/node scripts/heap-profile-summary.mjs <file.heapprofile> [top=40] [calls=3000] [map=dist/agent/agent.js.map]
import fs from 'node:fs';
import { SourceMap } from 'node:module';

const [file, topArg, callsArg, mapArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: heap-profile-summary.mjs <file.heapprofile> [top] [calls] [source map]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const top = Number(topArg ?? 40);
const calls = Number(callsArg ?? 3000);
const map = new SourceMap(JSON.parse(fs.readFileSync(mapArg ?? 'dist/agent/agent.js.map', 'utf8')));
const bySite = new Map();
let total = 0;
const where = (frame) => {
  let at = `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`;
  if (frame.url.endsWith('agent/agent.js')) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber);
    if (e?.originalSource) at = `${e.originalSource.replace(/^.*?(node_modules\/|src\/|drivers\/)/, '$1')}:${e.originalLine + 1}`;
  }
  return `${frame.functionName || '(anonymous)'} ${at}`;
};
const walk = (node, callers) => {
  const site = where(node.callFrame);
  if (node.selfSize) {
    const key = `${site}  <-  ${callers.slice(-2).reverse().join(' <- ')}`;
    bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children ?? []) walk(child, [...callers, site]);
};
walk(profile.head, []);
console.log(`total ${(total / calls).toFixed(0)} B per call`);
for (const [key, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(bytes / calls).toFixed(0).padStart(6)} B  ${key}`);
}
