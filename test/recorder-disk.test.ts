// The free-space guard, on the driver with a simulated filling disk (statfs
// replaced) and the real ffmpeg: below the minimum the recording stops with
// an alert and `start` is refused; with a retention the oldest recordings go
// first and recording carries on.
import { connectWithoutHost } from '../src/transport/lifecycle.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRecorder } from '../drivers/recorder/driver.js';
import { RecordingIndex } from '../drivers/recorder/index-db.js';
import { RecorderConfigSchema } from '../drivers/recorder/schema.js';
import type { DeviceEvent, DeviceInstance, DriverContext } from '../src/host/contract.js';
import { realClock } from '../src/util/clock.js';
import { alive, waitUntil } from './video-helpers.js';
import { RateLimitedLog } from '../src/util/rate-limited-log.js';

const MB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(over: Record<string, unknown>, free: () => number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-disk-'));
  const dataDir = path.join(dir, 'devices', 'rec');
  fs.mkdirSync(dataDir, { recursive: true });
  const events: DeviceEvent[] = [];
  const errors: string[] = [];
  const status: string[] = [];
  const ctx: DriverContext = {
    id: 'rec',
    logger: pino({ level: 'silent' }),
    deviceNoise: new RateLimitedLog(pino({ level: 'silent' })),
    agentReady: Promise.resolve(),
    clock: realClock,
    dataDir,
    setStatus: (s) => status.push(s),
    connect: connectWithoutHost({ clock: realClock, setStatus: (s) => status.push(s) }),
    reportError: (m) => errors.push(m),
    setState: () => undefined,
    emit: (e) => events.push(e),
  };
  const config = Value.Default(RecorderConfigSchema, {
    input: 'testsrc2=size=160x120:rate=10',
    input_format: 'lavfi',
    segment_seconds: 2,
    preset: 'ultrafast',
    check_interval_ms: 100,
    ...over,
  }) as never;
  const rec: DeviceInstance = createRecorder(config, ctx, { statfs: () => ({ bavail: Math.floor(free() / 4096), bsize: 4096 }) });
  cleanups.push(async () => {
    await rec.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = <T = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}) =>
    rec.actions[action].run(params, { cause: { kind: 'api' }, signal: new AbortController().signal }) as Promise<T>;
  return { rec, run, events, errors, status, root: path.join(dir, 'recordings'), dataDir };
}

describe('recorder free-space guard', () => {
  it('stops the recording and alerts when free space drops below the minimum', async () => {
    let free = 5000 * MB;
    const r = setup({ min_free_mb: 1000 }, () => free);
    await r.rec.start();
    expect(r.status).toContain('online');
    await r.run('start', { meeting_id: 'm1' });
    expect((await r.run<{ recording: boolean }>('status')).recording).toBe(true);
    free = 900 * MB;
    await waitUntil(async () => !(await r.run<{ recording: boolean }>('status')).recording, 10_000, 'stopped');
    const st = await r.run<{ alert: string }>('status');
    expect(st.alert).toMatch(/free space 900 MB below the 1000 MB minimum.*recording stopped/);
    expect(r.events.find((e) => e.type === 'recorder.alert')?.data.reason).toBe(st.alert);
    expect(r.errors.some((e) => /below the 1000 MB minimum/.test(e))).toBe(true);
    await expect(r.run('start', {})).rejects.toThrow(/not started: free space 900 MB/);
    // Everything recorded so far is closed and indexed.
    const idx = await r.run<{ segments: { state: string }[] }>('recordings', { session: 'm1' });
    expect(idx.segments.length).toBeGreaterThan(0);
    for (const s of idx.segments) expect(['complete', 'recovered']).toContain(s.state);
  });

  it('with a retention, deletes the oldest recordings first and keeps recording', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-ret-'));
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    // Three old recordings of 1 MB each, oldest first.
    const idx = new RecordingIndex(root);
    const old = ['2026-01-01', '2026-01-02', '2026-01-03'].map((d, i) => {
      const rel = `${d}/adhoc-x${i}/program_${d.replaceAll('-', '')}T100000Z.mp4`;
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), Buffer.alloc(MB));
      idx.openSession({
        key: `${d}/adhoc-x${i}`,
        id: `adhoc-x${i}`,
        meeting_id: null,
        title: null,
        stream: 'program',
        started_at: `${d}T10:00:00Z`,
      });
      idx.openSegment({
        session: `${d}/adhoc-x${i}`,
        meeting_id: null,
        stream: 'program',
        path: rel,
        start: `${d}T10:00:00.000Z`,
      });
      idx.closeSegment(rel, { end: `${d}T10:05:00.000Z`, bytes: MB, duration_s: 300, state: 'complete' });
      return rel;
    });
    idx.close();
    // Free space = 0.5 MB + whatever was deleted.
    const free = () => 0.5 * MB + old.filter((rel) => !fs.existsSync(path.join(root, rel))).length * MB;
    const r = setup({ output_dir: root, min_free_mb: 2, retention_days: 3650 }, free);
    await r.rec.start();
    expect(fs.existsSync(path.join(root, old[0]))).toBe(false);
    expect(fs.existsSync(path.join(root, old[1]))).toBe(false);
    expect(fs.existsSync(path.join(root, old[2]))).toBe(true);
    const st = await r.run<{ recording: boolean; alert: string | null }>('start', {});
    expect(st.recording).toBe(true);
    expect(st.alert).toBeNull();
    const sessions = await r.run<{ sessions: { id: string }[] }>('recordings', {});
    expect(sessions.sessions.map((s) => s.id)).toContain('adhoc-x2');
    expect(r.events.some((e) => e.type === 'recorder.alert')).toBe(false);
  });

  it('ends an ffmpeg left recording by a killed agent before it starts', async () => {
    const r = setup({ min_free_mb: 1 }, () => 5000 * MB);
    // The orphan: its command line names the recordings root, like the real one.
    const orphan = spawn('sh', ['-c', 'sleep 600', r.root], { stdio: 'ignore' });
    cleanups.push(() => {
      orphan.kill('SIGKILL');
    });
    await waitUntil(() => alive(orphan.pid!), 10_000, 'orphan up');
    fs.writeFileSync(path.join(r.dataDir, 'ffmpeg.pid'), String(orphan.pid));
    await r.rec.start();
    await waitUntil(() => !alive(orphan.pid!), 10_000, 'orphan gone');
    expect(fs.existsSync(path.join(r.dataDir, 'ffmpeg.pid'))).toBe(false);
    // A pid file naming an unrelated process is ignored.
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(() => {
      other.kill('SIGKILL');
    });
    fs.writeFileSync(path.join(r.dataDir, 'ffmpeg.pid'), String(other.pid));
    await r.rec.stop();
    await r.rec.start();
    expect(alive(other.pid!)).toBe(true);
  });
});
