// One recording session: runs ffmpeg (segmented, fragmented MP4), indexes
// each segment as ffmpeg opens and finishes it, and when ffmpeg dies restarts
// it into a new segment, closing the broken one as "recovered" and recording
// the gap. Planned restarts (a new logo) are recorded as gaps too.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Logger } from 'pino';
import { Backoff } from '../../src/transport/backoff.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { tiedToParent } from '../../src/util/parent-death.js';
import { killStale, waitGone } from '../../src/util/stale-process.js';
import type { RecordingIndex } from './index-db.js';
import { parseOpeningLine, parseSegmentListLine, parseSegmentName, redactCredentials, segmentNameMs } from './protocol.js';

export interface RecordingOptions {
  ffmpeg: string;
  ffprobe: string;
  /** The recordings root (paths in the index are relative to it). */
  root: string;
  sessionKey: string;
  /** Absolute session directory (the segment list names files relative to it). */
  dir: string;
  meetingId: string | null;
  stream: string;
  /** ffmpeg's working directory: the overlay text and logo files live there. */
  cwd: string;
  args: () => string[];
  index: RecordingIndex;
  logger: Logger;
  clock: Clock;
  restartMinMs: number;
  restartMaxMs: number;
  /** Holds the running ffmpeg's pid, so one left by a killed agent is found at the next start. */
  pidFile: string;
  /** Something changed (segment opened/closed, gap, restart). */
  onChange(): void;
}

export interface LastGap {
  start: string;
  end: string | null;
  reason: string;
}

let warnedUntied = false;

export class SegmentedRecording {
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly open = new Set<string>();
  private stopping = false;
  private planned: string | null = null;
  private restartTimer: TimerHandle | null = null;
  private readonly backoff: Backoff;
  private lastOpenMs = 0;
  private readonly stderrTail: string[] = [];
  /** ffmpeg's name of an open segment → the name with milliseconds it was renamed to. */
  private readonly renamed = new Map<string, string>();
  /** Segment opens and closes, handled one after the other (an open renames the file first). */
  private events: Promise<void> = Promise.resolve();
  currentSegment: string | null = null;
  restarts = 0;
  gaps = 0;
  lastGap: LastGap | null = null;

  constructor(private readonly o: RecordingOptions) {
    this.backoff = new Backoff({ initialMs: o.restartMinMs, maxMs: o.restartMaxMs, jitter: 0 });
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  start(): void {
    this.spawnOnce();
  }

  /** Graceful: ffmpeg gets `q` and finishes the segment; SIGKILL after 8 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.o.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.endProcess();
    const now = this.iso(this.o.clock.now());
    if (this.lastGap && this.lastGap.end === null) {
      this.o.index.closeGap(this.o.sessionKey, now);
      this.lastGap.end = now;
    }
  }

  /** A planned restart into a new segment (e.g. the logo changed); the short gap is recorded. */
  async restart(reason: string): Promise<void> {
    if (this.stopping || !this.proc) return;
    this.planned = reason;
    await this.endProcess();
  }

  private async endProcess(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    try {
      p.stdin?.write('q\n');
    } catch {
      // stdin closed: the kill below does it
    }
    const killTimer = this.o.clock.setTimeout(() => p.kill('SIGKILL'), 8000);
    await this.exited;
    this.o.clock.clearTimeout(killTimer);
  }

  private spawnOnce(): void {
    this.restartTimer = null;
    if (this.stopping) return;
    // File names have second precision: never start two segments in one second.
    const wait = Math.floor(this.lastOpenMs / 1000) * 1000 + 1000 - this.o.clock.now();
    if (wait > 0) {
      this.restartTimer = this.o.clock.setTimeout(() => this.spawnOnce(), wait + 20);
      return;
    }
    // Through `setpriv --pdeathsig KILL` where it can be: the kernel ends ffmpeg
    // when the agent dies, so a killed agent never leaves a recording running.
    const cmd = tiedToParent(this.o.ffmpeg, this.o.args());
    if (!cmd.tied && !warnedUntied) {
      warnedUntied = true;
      this.o.logger.warn(
        'setpriv --pdeathsig is not available (util-linux >= 2.33): an ffmpeg left by a killed agent runs until the next start ends it',
      );
    }
    const child = spawn(cmd.command, cmd.args, {
      cwd: this.o.cwd,
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    });
    this.proc = child;
    if (child.pid) fs.writeFileSync(this.o.pidFile, String(child.pid));
    let done!: () => void;
    this.exited = new Promise((r) => (done = r));
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => this.o.logger.error({ err: e.message }, 'ffmpeg could not start'));
    if (child.stderr) readline.createInterface({ input: child.stderr }).on('line', (l) => this.onStderr(l));
    const list = child.stdio[3];
    const listDone = new Promise<void>((resolve) => {
      if (!list || !('on' in list)) return resolve();
      readline
        .createInterface({ input: list as NodeJS.ReadableStream })
        .on('line', (l) => this.serial(async () => this.onListLine(l)))
        .on('close', resolve);
    });
    child.on('close', (code, signal) => {
      void listDone
        .then(() => this.events)
        .then(() => this.onExit(child, code, signal))
        .finally(done);
    });
  }

  private onStderr(line: string): void {
    const opened = parseOpeningLine(line);
    if (opened) {
      this.serial(() => this.onOpen(opened));
      return;
    }
    const clean = redactCredentials(line);
    this.o.logger.trace({ ffmpeg: clean }, 'ffmpeg');
    this.stderrTail.push(clean);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
  }

  private serial(job: () => Promise<void>): void {
    this.events = this.events.then(job).catch((e) => this.o.logger.error({ err: String(e) }, 'segment bookkeeping failed'));
  }

  private rel(file: string): string {
    return path.relative(this.o.root, path.resolve(this.o.cwd, file));
  }

  private async onOpen(file: string): Promise<void> {
    const abs = path.resolve(this.o.cwd, file);
    const named = parseSegmentName(abs);
    // ffmpeg names the file to the second (strftime) when it opens it; the
    // start is within that second and not after now. The milliseconds go into
    // the name, so a gap never ends (next segment's start) before it began.
    const now = this.o.clock.now();
    const startMs = named ? Math.max(named.startMs, Math.min(now, named.startMs + 999)) : now;
    let finalAbs = abs;
    if (named && !named.precise) {
      const target = path.join(path.dirname(abs), segmentNameMs(named.stream, startMs));
      if (await renameOpenFile(abs, target)) {
        finalAbs = target;
        this.renamed.set(abs, target);
      } else this.o.logger.warn({ file: this.rel(abs) }, 'segment kept its second-precision name (rename failed)');
    }
    const rel = this.rel(finalAbs);
    this.lastOpenMs = Math.max(this.lastOpenMs, startMs, now);
    this.o.index.openSegment({
      session: this.o.sessionKey,
      meeting_id: this.o.meetingId,
      stream: this.o.stream,
      path: rel,
      start: this.iso(startMs),
    });
    if (this.lastGap && this.lastGap.end === null) {
      this.lastGap.end = this.iso(Math.max(startMs, Date.parse(this.lastGap.start)));
      this.o.index.closeGap(this.o.sessionKey, this.lastGap.end);
    }
    this.open.add(rel);
    this.currentSegment = rel;
    this.o.onChange();
  }

  private onListLine(line: string): void {
    const e = parseSegmentListLine(line);
    if (!e) return;
    const listed = path.resolve(this.o.dir, e.file);
    const abs = this.renamed.get(listed) ?? listed;
    this.renamed.delete(listed);
    const rel = this.rel(abs);
    const startMs = this.o.index.segment(rel) ? Date.parse(this.o.index.segment(rel)!.start) : this.o.clock.now();
    const duration = e.end - e.start;
    this.o.index.closeSegment(rel, {
      end: this.iso(startMs + duration * 1000),
      bytes: fileSize(path.join(this.o.root, rel)),
      duration_s: duration,
      state: 'complete',
    });
    this.open.delete(rel);
    if (this.currentSegment === rel) this.currentSegment = null;
    this.backoff.reset();
    this.o.onChange();
  }

  private async onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.proc === child) this.proc = null;
    fs.rmSync(this.o.pidFile, { force: true });
    // Segments ffmpeg did not finish: keep what is playable, drop empty files.
    for (const rel of [...this.open]) {
      await recoverSegment(this.o.ffprobe, this.o.root, rel, this.o.index);
      this.open.delete(rel);
    }
    this.currentSegment = null;
    const now = this.o.clock.now();
    if (this.stopping) {
      this.o.onChange();
      return;
    }
    const reason =
      this.planned ??
      `ffmpeg exited unexpectedly (code ${code ?? '-'}, signal ${signal ?? '-'})${this.stderrTail.length ? `: ${this.stderrTail.at(-1)}` : ''}`;
    const planned = this.planned !== null;
    this.planned = null;
    // One outage is one gap, however many restarts it takes to record again.
    if (!this.lastGap || this.lastGap.end !== null) {
      this.gaps++;
      this.lastGap = { start: this.iso(now), end: null, reason };
      this.o.index.openGap({ session: this.o.sessionKey, stream: this.o.stream, start: this.lastGap.start, reason });
    }
    this.restarts++;
    if (!planned) this.o.logger.warn({ reason }, 'ffmpeg died while recording; restarting into a new segment');
    this.o.onChange();
    const delay = planned ? 0 : this.backoff.next();
    this.restartTimer = this.o.clock.setTimeout(() => this.spawnOnce(), delay);
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }
}

/** Ends an ffmpeg an earlier agent left recording (ffmpeg does not quit when its stdin closes). */
export async function killStaleFfmpeg(pidFile: string, marker: string): Promise<number | null> {
  const pid = killStale(pidFile, marker);
  if (pid !== null) await waitGone(pid);
  return pid;
}

/**
 * Renames a file ffmpeg has open (it keeps writing through its descriptor).
 * ffmpeg logs "Opening … for writing" just before it creates the file, so a
 * missing file is waited for briefly.
 */
async function renameOpenFile(from: string, to: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      await fs.promises.rename(from, to);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return false;
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** Duration (s) ffprobe reads from a file, or null when it is not a playable MP4. */
export function probeDuration(ffprobe: string, file: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(
      ffprobe,
      ['-v', 'error', '-show_entries', 'format=duration:stream=duration', '-of', 'json', file],
      { timeout: 15_000 },
      (err, stdout) => {
        if (err) return resolve(null);
        try {
          const j = JSON.parse(stdout) as { format?: { duration?: string }; streams?: { duration?: string }[] };
          const d = Number(j.format?.duration ?? j.streams?.[0]?.duration);
          resolve(Number.isFinite(d) && d > 0 ? d : null);
        } catch {
          resolve(null);
        }
      },
    );
  });
}

/** Closes a segment ffmpeg did not finish: "recovered" if playable, else the file and row go. */
export async function recoverSegment(ffprobe: string, root: string, rel: string, index: RecordingIndex): Promise<void> {
  const abs = path.join(root, rel);
  const row = index.segment(rel);
  const bytes = fileSize(abs);
  const duration = bytes > 0 ? await probeDuration(ffprobe, abs) : null;
  if (duration === null) {
    fs.rmSync(abs, { force: true });
    if (row) index.deleteSegment(row.id);
    return;
  }
  const startMs = row ? Date.parse(row.start) : Date.now();
  index.closeSegment(rel, {
    end: new Date(startMs + duration * 1000).toISOString(),
    bytes,
    duration_s: duration,
    state: 'recovered',
  });
}
