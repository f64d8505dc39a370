// The driver against the simulator over UDP loopback: Sony VISCA over IP
// (header, sequence numbers, resends) and raw VISCA over UDP.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaCamera } from './driver.js';
import { ViscaSimulator } from './simulator.js';
import { type Pair, recordingContext, startPair, until, viscaConfig } from './test-support.js';

let pair: Pair | null = null;
afterEach(async () => {
  await pair?.stop();
  pair = null;
});

const fast = { reply_timeout_ms: 300, retries: 2, poll_interval_ms: 60_000, busy_retry_ms: 50 };
/** Polls often, so a camera that answers again is seen online quickly. */
const recovering = { ...fast, poll_interval_ms: 200 };

describe('Sony VISCA over IP (sony-udp)', () => {
  it('connects with RESET, reads power and position, goes online', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    expect(pair.ctx.statuses.at(-1)).toMatchObject({ status: 'online' });
    expect(pair.ctx.state).toMatchObject({ power: 'on', moving: false, position: { pan: 0, tilt: 0, zoom: 0 } });
    const kinds = pair.sim.received.map((r) => (r.request.kind === 'inquiry' ? `inquiry ${r.request.what}` : r.request.kind));
    expect(kinds.slice(0, 4)).toEqual(['inquiry power', 'inquiry last-preset', 'inquiry pan-tilt', 'inquiry zoom']);
  });

  it('preset.recall answers on Completion, with moving true meanwhile; named presets use the Sony offset', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 150 }, { ...fast, presets: { down: 10 } });
    const done = pair.act('preset.recall', { preset: 'down' });
    await until(() => pair!.ctx.state.moving === true, 'moving');
    expect(pair.sim.model.busySockets).toBe(1);
    expect(await done).toEqual({ preset: 10, name: 'down' });
    // The action resolved only once the camera had finished the move.
    expect(pair.sim.model.busySockets).toBe(0);
    expect(pair.ctx.state).toMatchObject({ moving: false, last_preset: 10, last_preset_name: 'down' });
    // Sony: preset 10 travels as byte 09.
    const rec = pair.sim.received.find((r) => r.request.kind === 'preset')!;
    expect(rec.hex).toBe('81 01 04 3F 02 09 FF');
    expect(pair.sim.presetRecalls()).toEqual([10]);
    expect(pair.sim.lastPreset).toBe(10);
  });

  it('store, reset, move, stop, zoom, home, goto, power, position and learn reach the camera', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    await pair.act('goto', { pan: 1000, tilt: -200, zoom: 0x2000 });
    expect(pair.sim.position).toEqual({ pan: 1000, tilt: -200, zoom: 0x2000 });
    expect(await pair.act('learn')).toEqual({ action: 'goto', params: { pan: 1000, tilt: -200, zoom: 0x2000 } });
    await pair.act('preset.store', { preset: 3 });
    await pair.act('home');
    expect(await pair.act('position')).toEqual({ pan: 0, tilt: 0, zoom: 0x2000 });
    await pair.act('preset.recall', { preset: 3 });
    expect(pair.sim.position).toEqual({ pan: 1000, tilt: -200, zoom: 0x2000 });
    await pair.act('preset.reset', { preset: 3 });
    await pair.act('move', { direction: 'up-left', pan_speed: 5, tilt_speed: 4 });
    expect(pair.ctx.state.moving).toBe(true);
    await pair.act('stop');
    expect(pair.ctx.state.moving).toBe(false);
    await pair.act('zoom', { op: 'tele', speed: 3 });
    await pair.act('zoom', { op: 'stop' });
    await pair.act('zoom', { op: 'direct', position: 0 });
    await pair.act('power', { state: 'standby' });
    expect(pair.sim.model.power).toBe('standby');
    const hexes = pair.sim.received.map((r) => r.hex);
    for (const expected of [
      '81 01 04 3F 01 02 FF',
      '81 01 06 04 FF',
      '81 01 04 3F 00 02 FF',
      '81 01 06 01 05 04 01 01 FF',
      '81 01 04 07 23 FF',
      '81 01 04 07 00 FF',
      '81 01 04 47 00 00 00 00 FF',
      '81 01 04 00 03 FF',
    ]) {
      expect(hexes).toContain(expected);
    }
  });

  it('camera errors become action errors: not executable in standby, syntax error out of range', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    await expect(pair.act('zoom', { op: 'direct', position: 0x7fff })).rejects.toMatchObject({
      code: 'DEVICE_ERROR',
      message: expect.stringContaining('syntax error'),
    });
    await pair.act('power', { state: 'standby' });
    await expect(pair.act('home')).rejects.toThrow(/not executable/);
    await expect(pair.act('preset.recall', { preset: 'nope' })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await expect(pair.act('preset.recall', { preset: 0 })).rejects.toThrow(/outside 1–100/);
    expect(pair.ctx.status).toBe('online');
  });

  it('a camera that answers inquiries with errors (standby) still comes online and can be powered on', async () => {
    const sim = await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start();
    sim.model.power = 'standby';
    sim.model.inquiryError = 0x41;
    const ctx = recordingContext();
    const cam = new ViscaCamera(viscaConfig({ ...fast, ...sim.endpoint }), ctx);
    try {
      await cam.start();
      await until(() => ctx.status === 'online', 'online');
      expect(ctx.state.power).toBeNull();
      const run = (name: string, params: object) =>
        cam.actions[name].run(params as never, { cause: { kind: 'api' }, signal: new AbortController().signal });
      await run('power', { state: 'on' });
      expect(sim.model.power).toBe('on');
      expect(ctx.state.power).toBe('on');
    } finally {
      await cam.stop();
      await sim.stop();
    }
  });

  it('a lost command is resent with the same sequence number and then runs once', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    pair.sim.dropNextRequests(1);
    await pair.act('preset.recall', { preset: 5 });
    expect(pair.cam.session.stats.resent).toBe(1);
    expect(pair.sim.presetRecalls()).toEqual([5]);
  });

  it('a lost ACK: the resend gets "abnormal sequence number", the command already ran; its result is asked for anew', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    // Motion 0: ACK and Completion go out together; lose both.
    pair.sim.dropNextReplies(2);
    await pair.act('preset.recall', { preset: 7 });
    expect(pair.cam.session.stats.resent).toBe(1);
    // The resend (same sequence number) did not run it again; the result is read by sending it
    // again with a new sequence number, as Sony's delivery-confirmation table says.
    expect(pair.sim.presetRecalls()).toEqual([7, 7]);
  });

  it('a lost inquiry reply is asked again with a new sequence number', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    pair.sim.dropNextReplies(1);
    expect(await pair.act('position')).toEqual({ pan: 0, tilt: 0, zoom: 0 });
  });

  it('sequence-number errors on a first try: the driver RESETs and resends', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    pair.sim.failNextWithSequenceError(1);
    await pair.act('preset.recall', { preset: 2 });
    expect(pair.sim.presetRecalls()).toEqual([2]);
  });

  it('garbage before replies is skipped, counted and logged at most once per 10 s', async () => {
    const lines: { msg: string; bytes: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast }, true, logger);
    pair.sim.setGarbage('prefix');
    for (const preset of [4, 5, 6]) await pair.act('preset.recall', { preset });
    expect(await pair.act('position')).toMatchObject({ zoom: expect.any(Number) });
    expect(pair.sim.presetRecalls()).toEqual([4, 5, 6]);
    expect(pair.cam.session.stats.garbageBytes).toBeGreaterThan(20);
    expect(pair.ctx.status).toBe('online');
    const warnings = lines.filter((l) => l.msg.includes('not VISCA'));
    expect(warnings).toHaveLength(1);
  });

  it('camera stops answering mid-command: timeout → resends → error, offline; online again when it answers', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 300 }, { ...recovering });
    const recall = pair.act('preset.recall', { preset: 9 });
    await until(() => pair!.sim.model.busySockets === 1, 'move started');
    pair.sim.setSilent(true); // the Completion never arrives
    const next = pair.act('preset.recall', { preset: 8 });
    await expect(next).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    await expect(recall).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    expect(pair.ctx.status).toBe('offline');
    expect(pair.cam.session.stats.resent).toBeGreaterThanOrEqual(2);
    pair.sim.setSilent(false);
    await until(() => pair!.ctx.status === 'online', 'back online');
    await pair.act('preset.recall', { preset: 8 });
  });

  it('a camera answering only garbage goes offline, and comes back when it heals', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...recovering });
    pair.sim.setGarbage('replace');
    // A poll inquiry may be the message that times out first: either way the camera is not answering.
    await expect(pair.act('preset.recall', { preset: 1 })).rejects.toMatchObject({
      code: expect.stringMatching(/DEVICE_TIMEOUT|DEVICE_OFFLINE/),
    });
    await until(() => pair!.ctx.status === 'offline', 'offline by the probe');
    pair.sim.setGarbage('off');
    await until(() => pair!.ctx.status === 'online', 'back online');
  });

  it('two sockets: commands arriving while both are busy wait for a free one instead of drawing "buffer full"', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 200 }, { ...fast });
    const socketsBusyOnArrival: number[] = [];
    pair.sim.on('command', (r) => {
      if (r.request.kind === 'preset') socketsBusyOnArrival.push(pair!.sim.model.busySockets);
    });
    // Two recalls fill both sockets; two more arrive while both are busy.
    const results = await Promise.all([1, 2, 3, 4].map((preset) => pair!.act('preset.recall', { preset })));
    expect(results.map((r) => (r as { preset: number }).preset)).toEqual([1, 2, 3, 4]);
    expect(pair.sim.presetRecalls()).toEqual([1, 2, 3, 4]);
    expect(pair.cam.session.stats.busyRetries).toBe(0);
    // The third recall reached the camera only after a socket was free again.
    expect(socketsBusyOnArrival).toHaveLength(4);
    expect(socketsBusyOnArrival.every((busy) => busy < 2)).toBe(true);
  });

  it('both sockets busy (another controller): buffer full → one retry → DEVICE_BUSY; inquiries still answered', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 0 }, { ...fast });
    pair.sim.model.occupySockets(2);
    await expect(pair.act('preset.recall', { preset: 1 })).rejects.toMatchObject({ code: 'DEVICE_BUSY' });
    expect(pair.cam.session.stats.busyRetries).toBe(1);
    expect(await pair.act('position')).toBeTruthy();
    // Freed before the retry: the retry succeeds.
    const later = pair.act('preset.recall', { preset: 2 });
    await until(() => pair!.cam.session.stats.busyRetries === 2, 'busy retry');
    pair.sim.model.releaseSockets();
    await expect(later).resolves.toMatchObject({ preset: 2 });
  });

  it('stop during two long recalls cancels both (8x 2z FF) instead of waiting for a free socket', async () => {
    pair = await startPair({ framing: 'sony-udp', motionMs: 5000 }, { ...fast });
    const recalls = Promise.allSettled([1, 2].map((preset) => pair!.act('preset.recall', { preset })));
    await until(() => pair!.sim.model.busySockets === 2, 'both sockets busy');
    expect(pair.ctx.state.moving).toBe(true);
    await pair.act('stop');
    for (const r of await recalls) {
      expect(r.status).toBe('rejected');
      expect(String((r as PromiseRejectedResult).reason)).toMatch(/command canceled/);
    }
    expect(pair.sim.model.busySockets).toBe(0);
    expect(pair.ctx.state.moving).toBe(false);
    const kinds = pair.sim.received.map((r) => r.request.kind);
    expect(kinds.filter((k) => k === 'cancel')).toHaveLength(2);
    expect(kinds.slice(-2)).toEqual(['pan-tilt-drive', 'zoom']);
  });

  it('strict mode: a camera that replies to a fixed port reaches a driver bound there (local_port)', async () => {
    const { default: dgram } = await import('node:dgram');
    // Find a free port for the driver to bind.
    const probe = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port)));
    await new Promise<void>((r) => probe.close(() => r()));
    pair = await startPair({ framing: 'sony-udp', motionMs: 0, replyPort: port }, { ...fast, local_port: port });
    await pair.act('preset.recall', { preset: 1 });
  });
});

describe('a fixed local port (52381) shared by several Sony cameras', () => {
  it('two cameras on one bound local port each get their own replies; one leaving does not close it for the other', async () => {
    const { default: dgram } = await import('node:dgram');
    const probe = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port)));
    await new Promise<void>((r) => probe.close(() => r()));
    const cfg = { ...fast, local_port: port };
    pair = await startPair({ framing: 'sony-udp', motionMs: 0, replyPort: port }, cfg);
    const second = await startPair({ framing: 'sony-udp', motionMs: 0, replyPort: port }, cfg);
    try {
      await pair.act('preset.recall', { preset: 1 });
      await second.act('preset.recall', { preset: 2 });
      expect(pair.sim.presetRecalls()).toEqual([1]);
      expect(second.sim.presetRecalls()).toEqual([2]);
      await pair.stop();
      pair = null;
      await second.act('preset.recall', { preset: 3 });
      expect(second.sim.presetRecalls()).toEqual([2, 3]);
    } finally {
      await second.stop();
    }
  });
});

describe('raw VISCA over UDP (raw-udp, PTZOptics profile)', () => {
  it('recalls presets as-is, reads position, survives garbage', async () => {
    pair = await startPair({ framing: 'raw-udp', motionMs: 50, profile: 'ptzoptics' }, { ...fast, profile: 'ptzoptics' });
    expect(await pair.act('preset.recall', { preset: 100 })).toEqual({ preset: 100, name: null });
    expect(pair.sim.received.find((r) => r.request.kind === 'preset')!.hex).toBe('81 01 04 3F 02 64 FF');
    await expect(pair.act('preset.recall', { preset: 95 })).rejects.toThrow(/reserved/);
    pair.sim.setGarbage('prefix');
    expect(await pair.act('position')).toEqual(pair.sim.position);
    expect(pair.cam.session.stats.garbageBytes).toBeGreaterThan(0);
  });

  it("polling publishes power and position changes made behind the driver's back", async () => {
    pair = await startPair({ framing: 'raw-udp', motionMs: 0, profile: 'ptzoptics' }, { ...recovering, profile: 'ptzoptics' });
    pair.sim.model.handle({ kind: 'absolute', address: 1, panSpeed: 1, tiltSpeedByte: 1, pan: 300, tilt: 40 }, () => undefined);
    await until(() => (pair!.ctx.state.position as { pan: number }).pan === 300, 'position polled');
    pair.sim.model.power = 'standby';
    await until(() => pair!.ctx.state.power === 'standby', 'power polled');
    expect(pair.ctx.status).toBe('online');
  });

  it('goes offline when the camera is silent and back online when it answers', async () => {
    pair = await startPair({ framing: 'raw-udp', motionMs: 0 }, { ...recovering, profile: 'ptzoptics' });
    pair.sim.setSilent(true);
    await until(() => pair!.ctx.status === 'offline', 'offline by polling');
    pair.sim.setSilent(false);
    await until(() => pair!.ctx.status === 'online', 'online again');
  });
});
