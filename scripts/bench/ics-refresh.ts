// What one refresh of an iCalendar feed costs the agent: CPU (process.cpuUsage) and bytes allocated
// on the JS heap (V8's --trace-gc-nvp `allocated=`) per refresh, beside ical.js's bare ICAL.parse of
// the same text in the same run. Three refreshes: a realistic Outlook room feed (3-year daily series,
// weekly/monthly series, 50 single meetings, ~100 overrides, a VTIMEZONE from 1601; see
// drivers/ics/realistic-feed.ts) read fresh, the same feed when the poll found it unchanged, and the
// demo's drivers/ics/sample/room.ics; plus each feed's first read in a fresh process (what the agent
// pays right after ready). Each runs in a child with the agent's Node flags (scripts/bench/ics-refresh-child.ts).
//   nice -n -15 npx tsx scripts/bench/run.ts ics-refresh
import { spawn } from 'node:child_process';
import path from 'node:path';
import { agentNodeFlags, ROOT } from './support.js';
import type { BenchResult } from './types.js';

const CHILD = path.join(ROOT, 'scripts', 'bench', 'ics-refresh-child.ts');

interface Measured {
  cpuMs: number;
  allocatedMb: number;
  scavenges: number;
}

/** `rounds` refreshes of one kind after `warmUps` unmeasured ones; per refresh. */
async function measure(kind: string, rounds: number, warmUps: number): Promise<Measured> {
  const args = [...agentNodeFlags(), '--expose-gc', '--trace-gc', '--trace-gc-nvp', '--import', 'tsx', CHILD];
  const proc = spawn(process.execPath, [...args, kind, String(rounds), String(warmUps)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  const begin = out.indexOf('ICS-MARK begin\n');
  const end = /ICS-MARK end (\d+)/.exec(out);
  if (code !== 0 || begin < 0 || !end) throw new Error(`ics-refresh child (${kind}) failed (exit ${code}): ${out.slice(-2000)}`);
  // The GC lines between the marks, the closing minor GC included (it prints before "end").
  const lines = out.slice(begin, end.index).split('\n');
  let allocated = 0;
  let scavenges = 0;
  for (const l of lines) {
    const a = / allocated=(\d+)/.exec(l);
    if (a) allocated += Number(a[1]);
    if (/ gc=s /.test(l)) scavenges++;
  }
  // The closing minor GC is the bench's own, not the refreshes'.
  return { cpuMs: Number(end[1]) / 1000 / rounds, allocatedMb: allocated / 1e6 / rounds, scavenges: (scavenges - 1) / rounds };
}

export async function run(): Promise<BenchResult[]> {
  const ROUNDS = 20;
  const feed = await measure('feed', ROUNDS, 3);
  const feedBare = await measure('feed-bare', ROUNDS, 3);
  const unchanged = await measure('unchanged', ROUNDS, 3);
  const sample = await measure('sample', ROUNDS, 3);
  const sampleBare = await measure('sample-bare', ROUNDS, 3);
  const feedFirst = await measure('feed', 1, 0);
  const sampleFirst = await measure('sample', 1, 0);
  const bare = (name: string, value: number) => ({ name: `ICAL.parse alone: ${name}`, value });
  /** CPU and MB allocated of one measurement, beside ICAL.parse alone of the same text when given. */
  const cpuAndMb = (label: string, m: Measured, base?: Measured, allocatedLabel = `${label}: allocated`): BenchResult[] => [
    { name: `${label}: CPU`, value: m.cpuMs, unit: 'ms', ...(base ? { baseline: bare('CPU', base.cpuMs) } : {}) },
    {
      name: allocatedLabel,
      value: m.allocatedMb,
      unit: 'MB',
      ...(base ? { baseline: bare('allocated', base.allocatedMb) } : {}),
    },
  ];
  return [
    ...cpuAndMb('realistic feed refresh', feed, feedBare),
    {
      name: 'realistic feed refresh: scavenges',
      value: feed.scavenges,
      unit: '',
      baseline: bare('scavenges', feedBare.scavenges),
    },
    ...cpuAndMb('realistic feed, first read in a fresh process', feedFirst),
    ...cpuAndMb(
      'realistic feed, unchanged (driver refresh of an unmodified file)',
      unchanged,
      feedBare,
      'realistic feed, unchanged: allocated',
    ),
    ...cpuAndMb('demo sample refresh', sample, sampleBare),
    ...cpuAndMb('demo sample, first read in a fresh process', sampleFirst),
  ];
}
