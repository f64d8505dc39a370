// Peak memory and task count of the recorder's ffmpeg beside the agent's, for
// the service's MemoryHigh=/MemoryMax=/TasksMax= (scripts/deb/room-agent.service,
// docs/install.md "Resource limits"). Runs the built agent (dist/agent/cli.js,
// as the .deb does) with one recorder in its heaviest documented mode: recording
// with all three burned-in layers (title, lower third, logo) at the default
// libx264 settings (veryfast, crf 23) with AAC audio, on ffmpeg's test sources
// (lavfi testsrc2 + sine, read at native speed) at 1920x1080 30 fps. The
// recorder's command line is the driver's own: the bench only calls
// device.action start / graphic over the WebSocket API, as the tests do.
// Every 500 ms it reads /proc/<pid>/status (VmRSS, VmHWM, Threads) of the agent
// and of every process below it (the recording ffmpeg, preview ffmpegs).
//
//   npm run bench -- recorder-memory
//   RECORDER_BENCH_SECONDS=30 npm run bench -- recorder-memory      (short run)
//   RECORDER_BENCH_SIZE=1280x720 RECORDER_BENCH_FPS=25 ...          (the simulated mode's picture)
//
// libx264 starts 1.5 frame threads per core, and each holds frames: a room PC
// with more cores than this 2-core machine gets a bigger ffmpeg. So after the
// agent run the bench runs the recording's own command line (read from
// /proc/<pid>/cmdline, same cwd) once more with `-threads N` for the encoder
// (RECORDER_BENCH_X264_THREADS, default 12 = what libx264 picks on 8 cores) for
// RECORDER_BENCH_SCALED_SECONDS (default 35; 0 skips it). Default run: about
// 2.5 minutes with the build.
//
// go2rtc is not part of this run: its binary is not on this machine (packaging
// downloads it); its share in the unit's budget is its configured limit.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { agentLaunch, agentNodeFlags, procStatus, requireBundle } from './support.js';
import type { BenchResult } from './types.js';

const SECONDS = Number(process.env.RECORDER_BENCH_SECONDS ?? 80);
const SIZE = process.env.RECORDER_BENCH_SIZE ?? '1920x1080';
const FPS = Number(process.env.RECORDER_BENCH_FPS ?? 30);
const SCALED_SECONDS = Number(process.env.RECORDER_BENCH_SCALED_SECONDS ?? 35);
const X264_THREADS = Number(process.env.RECORDER_BENCH_X264_THREADS ?? 12);
const SAMPLE_MS = 500;
const TOKEN = 'bench-operator-token-0123456789';

interface ProcStatus {
  rssKb: number;
  hwmKb: number;
  threads: number;
}

/** VmRSS, VmHWM and Threads of a process, or null once it is gone. */
function readStatus(pid: number): ProcStatus | null {
  const field = procStatus(pid);
  return field && { rssKb: field('VmRSS'), hwmKb: field('VmHWM'), threads: field('Threads') };
}

/** Every process below `root` (children, grandchildren…), from the ppid in /proc/<pid>/stat. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone between readdir and read
    }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        todo.push(child);
      }
    }
  }
  return out;
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** A minimal JSON-RPC client over the agent's WebSocket. */
async function rpcClient(url: string) {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString());
    if (typeof msg.id === 'number') pending.get(msg.id)?.(msg);
    pending.delete(msg.id);
  });
  const call = <T>(method: string, params: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  return { call, close: () => ws.close() };
}

async function waitFor<T>(what: string, boundMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const until = Date.now() + boundMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`recorder-memory: ${what} not within ${boundMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function run(): Promise<BenchResult[]> {
  const cli = requireBundle();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recorder-mem-'));
  const source = `testsrc2=size=${SIZE}:rate=${FPS}[out0];sine=frequency=440:sample_rate=48000[out1]`;
  fs.writeFileSync(
    path.join(dir, 'api.toml'),
    `[agent]
room_id = "bench-room"
listen = "127.0.0.1:0"
data_dir = "data"
log_level = "info"

[[agent.tokens]]
name = "bench-operator"
token = "${TOKEN}"
role = "operator"

[devices.rec]
driver = "recorder"
input = "${source}"
input_format = "lavfi"
segment_seconds = 60
min_free_mb = 1
`,
  );
  const agent = spawn(process.execPath, [...agentNodeFlags(), cli, 'start', '--config', path.join(dir, 'api.toml')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  agent.stdout.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-200_000);
  });
  agent.stderr.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-200_000);
  });
  const agentPid = agent.pid!;
  let client: Awaited<ReturnType<typeof rpcClient>> | undefined;
  try {
    const address = await waitFor('room-agent ready', 60_000, async () => {
      const line = log.split('\n').find((l) => l.includes('room-agent ready'));
      return line ? (JSON.parse(line) as { address: string }).address : null;
    });
    client = await rpcClient(`${address.replace(/^http/, 'ws')}/ws?token=${TOKEN}`);
    const act = <T = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}) =>
      client!.call<T>('device.action', { device: 'rec', action, params });
    await waitFor(
      'recorder online',
      30_000,
      async () =>
        (await client!.call<{ status: { status: string } }>('devices.get', { device: 'rec' })).status.status === 'online',
    );
    // All three layers burned in: the title and lower third are drawtext, the logo an overlay input.
    await act('graphic', { layer: 'title', text: 'Quarterly review: recorder memory bench', preview: false });
    await act('graphic', { layer: 'lower_third', text: 'Speaker name, Room 4.12', preview: false });
    const logo = execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x320', '-frames:v', '1'],
      ...['-c:v', 'png', '-f', 'image2pipe', 'pipe:1'],
    ]);
    await act('graphic', { layer: 'logo', image_base64: logo.toString('base64'), preview: false });
    await act('start', { meeting_id: 'bench' });
    // One preview render while recording (a second, short ffmpeg beside the recording one).
    await act('graphic', {});

    const pidFile = path.join(dir, 'data', 'devices', 'rec', 'ffmpeg.pid');
    const recordingPid = () => {
      const found = [pidFile, ...findPidFiles(path.join(dir, 'data'))].find((f) => fs.existsSync(f));
      return found ? Number(fs.readFileSync(found, 'utf8')) : 0;
    };
    const peak = { agentHwmKb: 0, agentThreads: 0, ffHwmKb: 0, ffThreads: 0, childrenRssKb: 0, totalRssKb: 0, totalTasks: 0 };
    const recPids = new Set<number>();
    let recording: { argv: string[]; cwd: string } | null = null;
    let samples = 0;
    const until = Date.now() + SECONDS * 1000;
    while (Date.now() < until) {
      const a = readStatus(agentPid);
      if (!a) throw new Error(`the agent exited during the run:\n${log.slice(-4000)}`);
      const rec = recordingPid();
      if (rec) recPids.add(rec);
      if (rec && !recording && comm(rec) === 'ffmpeg') recording = readCommand(rec);
      let childrenRss = 0;
      let childrenTasks = 0;
      for (const pid of descendants(agentPid)) {
        const s = readStatus(pid);
        if (!s) continue;
        childrenRss += s.rssKb;
        childrenTasks += s.threads;
        if (pid === rec && comm(pid) === 'ffmpeg') {
          peak.ffHwmKb = Math.max(peak.ffHwmKb, s.hwmKb);
          peak.ffThreads = Math.max(peak.ffThreads, s.threads);
        }
      }
      peak.agentHwmKb = Math.max(peak.agentHwmKb, a.hwmKb);
      peak.agentThreads = Math.max(peak.agentThreads, a.threads);
      peak.childrenRssKb = Math.max(peak.childrenRssKb, childrenRss);
      peak.totalRssKb = Math.max(peak.totalRssKb, a.rssKb + childrenRss);
      peak.totalTasks = Math.max(peak.totalTasks, a.threads + childrenTasks);
      samples++;
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
    const st = await act<{ segments: number; gaps: number }>('status');
    await act('stop');
    if (peak.ffHwmKb === 0 || !recording) throw new Error(`no recording ffmpeg was seen:\n${log.slice(-4000)}`);
    process.stdout.write(
      `recording ffmpeg: ${recording.argv.map((a) => (/[\s;[\]'"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`,
    );
    const scaled = SCALED_SECONDS > 0 ? await runScaled(recording, dir) : null;
    const mb = (kb: number) => kb / 1024;
    const date = new Date().toISOString();
    const mode = `${SIZE} ${FPS} fps + AAC, title + lower third + logo, veryfast crf 23, ${os.cpus().length} cores, ${SECONDS} s, ${samples} samples, ${date}`;
    process.stdout.write(
      `recorder-memory ${date}: ffmpeg peak RSS ${mb(peak.ffHwmKb).toFixed(1)} MB, ${peak.ffThreads} threads; ` +
        `agent peak RSS ${mb(peak.agentHwmKb).toFixed(1)} MB, ${peak.agentThreads} threads; ` +
        `agent + children ${mb(peak.totalRssKb).toFixed(1)} MB, ${peak.totalTasks} tasks ` +
        `(${recPids.size} recording ffmpeg process(es), ${st.segments} segments, ${st.gaps} gaps)` +
        (scaled
          ? `; same command with -threads ${X264_THREADS}: ${mb(scaled.hwmKb).toFixed(1)} MB, ${scaled.threads} threads`
          : '') +
        '\n',
    );
    const results: BenchResult[] = [
      {
        name: `recording ffmpeg peak RSS (VmHWM), ${mode}`,
        value: mb(peak.ffHwmKb),
        unit: 'MB',
        baseline: { name: `agent peak RSS (VmHWM), ${agentLaunch()}`, value: mb(peak.agentHwmKb) },
      },
      {
        name: 'recording ffmpeg threads (max)',
        value: peak.ffThreads,
        unit: 'threads',
        baseline: { name: 'agent threads (max)', value: peak.agentThreads },
      },
      {
        name: 'agent + all its child processes, peak summed RSS',
        value: mb(peak.totalRssKb),
        unit: 'MB',
        baseline: { name: 'children alone (ffmpeg recording + previews)', value: mb(peak.childrenRssKb) },
        goal: '≤ 640 MB (agent 128 + recording ffmpeg 512, docs/install.md "Resource limits")',
      },
      {
        name: 'agent + all its child processes, peak tasks',
        value: peak.totalTasks,
        unit: 'tasks',
        goal: '≤ 64 (agent 16 + recording ffmpeg 48, docs/install.md)',
      },
    ];
    if (scaled) {
      results.push(
        {
          name: `the same ffmpeg command with libx264 -threads ${X264_THREADS} (an 8-core PC), ${SCALED_SECONDS} s: peak RSS (VmHWM)`,
          value: mb(scaled.hwmKb),
          unit: 'MB',
          baseline: { name: `threads auto on ${os.cpus().length} cores (above)`, value: mb(peak.ffHwmKb) },
          goal: '≤ 512 MB (the recording share, docs/install.md)',
        },
        {
          name: `the same ffmpeg command with libx264 -threads ${X264_THREADS}: threads (max)`,
          value: scaled.threads,
          unit: 'threads',
          baseline: { name: `threads auto on ${os.cpus().length} cores (above)`, value: peak.ffThreads },
          goal: '≤ 48 (docs/install.md)',
        },
      );
    }
    return results;
  } finally {
    client?.close();
    agent.kill('SIGTERM');
    await exited(agent, 20_000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves once `proc` has exited, killing it (SIGKILL) if it is still running after `ms`. */
function exited(proc: ChildProcess, ms: number): Promise<void> {
  return new Promise<void>((r) => {
    if (proc.exitCode !== null) return r();
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      r();
    }, ms);
    proc.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

/** argv and working directory of a running process. */
function readCommand(pid: number): { argv: string[]; cwd: string } | null {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
    return { argv, cwd: fs.readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return null;
  }
}

/**
 * Runs the recording's command line again, with `-threads N` for libx264 and the
 * segments written to a scratch folder, and samples its VmHWM and Threads.
 */
async function runScaled(recording: { argv: string[]; cwd: string }, dir: string): Promise<ProcStatus> {
  const argv = [...recording.argv];
  const codec = argv.indexOf('libx264');
  if (codec < 0) throw new Error('recorder-memory: the recording command has no libx264');
  argv.splice(codec + 1, 0, '-threads', String(X264_THREADS));
  const out = path.join(dir, 'scaled');
  fs.mkdirSync(out);
  argv[argv.length - 1] = path.join(out, path.basename(argv[argv.length - 1]));
  const ff = spawn(argv[0], argv.slice(1), { cwd: recording.cwd, stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
  ff.stdio[3]?.on('data', () => undefined);
  const peak: ProcStatus = { rssKb: 0, hwmKb: 0, threads: 0 };
  const until = Date.now() + SCALED_SECONDS * 1000;
  try {
    while (Date.now() < until && ff.exitCode === null) {
      const s = readStatus(ff.pid!);
      if (s) {
        peak.hwmKb = Math.max(peak.hwmKb, s.hwmKb);
        peak.threads = Math.max(peak.threads, s.threads);
      }
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
    if (ff.exitCode !== null)
      throw new Error(`recorder-memory: the -threads ${X264_THREADS} ffmpeg exited early (${ff.exitCode})`);
  } finally {
    ff.stdin?.end('q');
    await exited(ff, 10_000);
  }
  return peak;
}

/** ffmpeg.pid files under the data dir (where the driver writes its recording ffmpeg's pid). */
function findPidFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 3) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && e.name !== 'recordings') walk(path.join(d, e.name), depth + 1);
      else if (e.name === 'ffmpeg.pid') out.push(path.join(d, e.name));
    }
  };
  walk(root, 0);
  return out;
}
