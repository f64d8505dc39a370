// go2rtc supervision against the emulator, run as a real child process:
// ready detection, version check, port conflicts, crash, hang, RSS limit,
// and a stop that leaves no process of the group behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGo2rtcConfig, renderGo2rtcYaml } from '../src/video/go2rtc-config.js';
import { Go2rtcSupervisor, type SupervisorOptions } from '../src/video/supervisor.js';
import { realClock } from '../src/util/clock.js';
import { alive, EMULATOR, freePort, groupMembers, waitUntil } from './video-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(over: Partial<SupervisorOptions> = {}, env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'video-sup-'));
  const apiPort = await freePort();
  const rtspPort = await freePort();
  const configFile = path.join(dir, 'go2rtc.yaml');
  const cfg = buildGo2rtcConfig({
    video: { api_port: apiPort, rtsp_port: rtspPort, webrtc_port: 18555, candidates: [] },
    streams: [{ name: 'cam-1_main', camera: 'cam-1', kind: 'main', url: 'rtsp://u:p@10.0.0.5/main' }],
  });
  fs.writeFileSync(configFile, renderGo2rtcYaml(cfg));
  const statuses: string[] = [];
  const sup = new Go2rtcSupervisor({
    binary: EMULATOR,
    args: ['-c', configFile],
    apiPort,
    ports: [apiPort, rtspPort],
    healthIntervalMs: 100,
    // A loaded machine can answer one GET /api late; a restart for it would be a "hang" no test asked for
    // (and would break the crash, RSS and stop tests' expectations). The hang test sets its own, short ones.
    healthTimeoutMs: 2_000,
    healthMisses: 3,
    // Long enough for a node child to start on a loaded machine; the ERR-line test then also shows the
    // line ends the attempt well before this timeout would.
    readyTimeoutMs: 20_000,
    stopGraceMs: 300,
    rssLimitBytes: 1024 * 1024 * 1024,
    restartMinMs: 50,
    restartMaxMs: 200,
    logger: pino({ level: 'silent' }),
    clock: realClock,
    env: { ...process.env, ...env },
    onStatus: (s) => statuses.push(s.state),
    ...over,
  });
  cleanups.push(async () => {
    await sup.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const emu = (p: string, method = 'POST') => fetch(`http://127.0.0.1:${apiPort}${p}`, { method });
  const running = () => waitUntil(() => (sup.status().state === 'running' ? sup.status() : null), 10_000, 'running');
  return { sup, apiPort, rtspPort, statuses, emu, running, dir, configFile };
}

describe('go2rtc supervisor', () => {
  it('is ready only after the listen line and a supported GET /api', async () => {
    const { sup, running, statuses } = await setup();
    sup.start();
    const st = await running();
    expect(st.version).toBe('1.9.14');
    expect(st.pid).toBeGreaterThan(0);
    expect(statuses[0]).toBe('starting');
    expect(st.restarts).toBe(0);
  });

  it('refuses an unsupported version and leaves nothing running', async () => {
    const { sup } = await setup({}, { GO2RTC_EMU_VERSION: '1.8.5' });
    sup.start();
    const st = await waitUntil(() => (sup.status().state === 'error' ? sup.status() : null), 10_000, 'error');
    expect(st.message).toMatch(/1\.8\.5 is not supported/);
    expect(st.pid).toBeNull();
  });

  it('does not start go2rtc while its API port is taken, and retries', async () => {
    const { sup, apiPort, running } = await setup();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(apiPort, '127.0.0.1', r));
    sup.start();
    await waitUntil(() => /in use/.test(sup.status().message), 10_000, 'port in use');
    expect(sup.status().state).toBe('restarting');
    await new Promise<void>((r) => blocker.close(() => r()));
    await running();
  });

  it('treats "ERR [api] listen" as a failed start even though the process lives on (B.8)', async () => {
    const { sup, apiPort } = await setup({ ports: [] });
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(apiPort, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    sup.start();
    await waitUntil(() => /could not open its API/.test(sup.status().message), 10_000, 'listen error');
    expect(sup.status().state).toBe('restarting');
  });

  it('restarts after a crash and kills the orphaned children of the crashed group', async () => {
    const { sup, emu, running } = await setup();
    sup.start();
    const first = await running();
    const { pid: childPid } = (await (await emu('/__emu/spawn')).json()) as { pid: number };
    expect(alive(childPid)).toBe(true);
    await emu('/__emu/crash');
    await waitUntil(() => sup.status().restarts >= 1 && sup.status().state === 'running', 10_000, 'restart');
    expect(sup.status().pid).not.toBe(first.pid);
    expect(sup.status().last_exit?.code).toBe(2);
    await waitUntil(() => !alive(childPid), 10_000, 'orphan gone');
    expect(groupMembers(first.pid!)).toEqual([]);
  });

  it('restarts a hung go2rtc (no answer to GET /api) and ends the hung group', async () => {
    const { sup, emu, running } = await setup({ healthTimeoutMs: 800, healthMisses: 2 });
    sup.start();
    const first = await running();
    await emu('/__emu/hang');
    await waitUntil(() => sup.status().restarts >= 1 && sup.status().state === 'running', 10_000, 'restart after hang');
    expect(sup.status().last_exit?.reason).toMatch(/hang/);
    expect(alive(first.pid!)).toBe(false);
  });

  it('restarts go2rtc above the RSS limit', async () => {
    const { sup, emu, running } = await setup({ rssLimitBytes: 160 * 1024 * 1024 });
    sup.start();
    await running();
    await emu('/__emu/grow?mb=200');
    await waitUntil(() => sup.status().restarts >= 1, 10_000, 'rss restart');
    expect(sup.status().last_exit?.reason).toMatch(/RSS \d+ MB above the 160 MB limit/);
  });

  it('stop: SIGTERM, wait, SIGKILL the whole group — no child survives', async () => {
    const { sup, emu, running } = await setup({}, { GO2RTC_EMU_IGNORE_TERM: '1' });
    sup.start();
    const st = await running();
    const kids = await Promise.all([emu('/__emu/spawn'), emu('/__emu/spawn')]);
    const pids = await Promise.all(kids.map(async (k) => ((await k.json()) as { pid: number }).pid));
    expect(groupMembers(st.pid!).length).toBe(3);
    await sup.stop();
    expect(sup.status().state).toBe('stopped');
    await waitUntil(() => groupMembers(st.pid!).length === 0, 10_000, 'group gone');
    for (const p of [st.pid!, ...pids]) expect(alive(p)).toBe(false);
  });

  it('ends a go2rtc group left running by a killed agent (pid file) before starting', async () => {
    const first = await setup();
    // The "earlier agent": started go2rtc, then died without stopping it.
    const orphan = spawn(EMULATOR, ['-c', first.configFile], { detached: true, stdio: 'ignore' });
    cleanups.push(() => {
      try {
        process.kill(-orphan.pid!, 'SIGKILL');
      } catch {}
    });
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${first.apiPort}/api`).catch(() => null))?.ok,
      10_000,
      'orphan up',
    );
    const pidFile = path.join(first.dir, 'go2rtc.pid');
    fs.writeFileSync(pidFile, String(orphan.pid));
    const sup = new Go2rtcSupervisor({ ...(first.sup as unknown as { o: SupervisorOptions }).o, pidFile });
    cleanups.push(() => sup.stop());
    sup.start();
    await waitUntil(() => sup.status().state === 'running', 10_000, 'running');
    expect(alive(orphan.pid!)).toBe(false);
    expect(sup.status().pid).not.toBe(orphan.pid);
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(sup.status().pid));
    await sup.stop();
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('ends the ffmpeg children a dead go2rtc left in its group after the agent was killed (pid file)', async () => {
    const first = await setup();
    // The "earlier agent" started go2rtc, which started ffmpeg; the agent was
    // killed, then go2rtc died too: only its child is left, in go2rtc's group.
    const orphan = spawn(EMULATOR, ['-c', first.configFile], { detached: true, stdio: 'ignore' });
    const group = orphan.pid!;
    cleanups.push(() => {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {}
    });
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${first.apiPort}/api`).catch(() => null))?.ok,
      10_000,
      'orphan up',
    );
    const { pid: childPid } = (await (await first.emu('/__emu/spawn')).json()) as { pid: number };
    const pidFile = path.join(first.dir, 'go2rtc.pid');
    fs.writeFileSync(pidFile, String(group));
    process.kill(group, 'SIGKILL');
    await waitUntil(() => !alive(group), 10_000, 'leader gone');
    expect(alive(childPid)).toBe(true);
    expect(groupMembers(group)).toEqual([childPid]);

    const sup = new Go2rtcSupervisor({ ...(first.sup as unknown as { o: SupervisorOptions }).o, pidFile });
    cleanups.push(() => sup.stop());
    sup.start();
    await waitUntil(() => !alive(childPid), 10_000, 'left-behind child gone');
    expect(groupMembers(group)).toEqual([]);
    await waitUntil(() => sup.status().state === 'running', 10_000, 'running');
  });
});
