// The driver against a Sony camera written from the SRG-300H / BRC-X400
// technical manuals (manual-peer.ts), not from our simulator: the findings of
// issue 17 that our own simulator could not show.
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaCamera } from './driver.js';
import { ManualSonyPeer, type ManualPeerOptions } from './manual-peer.js';
import { type RecordingContext, recordingContext, until, viscaConfig } from './test-support.js';
import type { ViscaConfig } from './config.js';

interface Rig {
  peer: ManualSonyPeer;
  cam: ViscaCamera;
  ctx: RecordingContext;
  act(name: string, params?: Record<string, unknown>): Promise<unknown>;
}
let rig: Rig | null = null;
afterEach(async () => {
  await rig?.cam.stop();
  await rig?.peer.stop();
  rig = null;
});

const fast = { reply_timeout_ms: 300, retries: 2, poll_interval_ms: 60_000 };

async function start(peerOpts: ManualPeerOptions, cfg: Partial<ViscaConfig> = {}): Promise<Rig> {
  const peer = await new ManualSonyPeer(peerOpts).start();
  const ctx = recordingContext();
  const cam = new ViscaCamera(viscaConfig({ framing: 'sony-udp', ...fast, ...cfg, ...peer.endpoint }), ctx);
  rig = {
    peer,
    cam,
    ctx,
    act: (name, params = {}) =>
      cam.actions[name].run(params as never, { cause: { kind: 'api' }, signal: new AbortController().signal }),
  };
  await cam.start();
  await until(() => ctx.status === 'online', 'driver online');
  return rig;
}

/** The outcome of a promise that may reject before the test looks at it. */
const settled = (p: Promise<unknown>) =>
  p.then(
    (v) => v,
    (e: unknown) => e,
  );
const statusesAfter = (r: Rig, from: number) => r.ctx.statuses.slice(from).map((s) => s.status);

describe('Sony VISCA over IP errors on payload type 02 00 (SRG-300H / BRC-X400 delivery confirmation)', () => {
  it('a lost ACK: the resend is answered ERROR 0F 01, the Completion follows, the recall succeeds and the camera stays online', async () => {
    // The move outlasts every resend of the driver (3 × 300 ms): only the error says the camera got it.
    const r = await start({ motionMs: 1500 });
    const seen = r.ctx.statuses.length;
    r.peer.loseNext('ack');
    expect(await r.act('preset.recall', { preset: 5 })).toEqual({ preset: 5, name: null });
    // Sony: preset 5 travels as 04. Asking again for the result may recall the same preset a second time.
    expect(new Set(r.peer.recalls)).toEqual(new Set([4]));
    expect(r.ctx.state).toMatchObject({ moving: false, last_preset: 5 });
    expect(statusesAfter(r, seen)).toEqual([]);
    expect(r.cam.session.stats.garbageBytes).toBe(0);
  });

  it('ACK and Completion lost: after ERROR 0F 01 the driver asks again with a new sequence number to learn the result', async () => {
    const r = await start({ motionMs: 0 });
    const seen = r.ctx.statuses.length;
    r.peer.loseNext('ack');
    r.peer.loseNext('completion');
    await r.act('preset.recall', { preset: 3 });
    const recalls = r.peer.received.filter((m) => m.hex.endsWith('81 01 04 3F 02 02 FF'));
    // First try, its resend (same sequence number, not performed again), then a new sequence number.
    expect(recalls.map((m) => m.retransmission)).toEqual([false, true, false]);
    expect(new Set(recalls.map((m) => m.seq)).size).toBe(2);
    expect(statusesAfter(r, seen)).toEqual([]);
  });

  it('a lost inquiry reply: ERROR 0F 01 on 02 00, the inquiry is asked again and answered', async () => {
    const r = await start({});
    const seen = r.ctx.statuses.length;
    r.peer.loseNext('reply');
    expect(await r.act('position')).toEqual({ pan: 0, tilt: 0, zoom: 0 });
    expect(statusesAfter(r, seen)).toEqual([]);
  });

  it("an ACK that arrives late (after the resend) is a success, and the resend's ERROR 0F 01 is not pinned on the next message", async () => {
    const r = await start({ motionMs: 0 });
    const seen = r.ctx.statuses.length;
    r.peer.delayNext('ack', 450); // after the 300 ms reply timeout: the driver has resent
    const recall = r.act('preset.recall', { preset: 2 });
    const position = r.act('position');
    await expect(recall).resolves.toEqual({ preset: 2, name: null });
    await expect(position).resolves.toEqual({ pan: 0, tilt: 0, zoom: 0 });
    expect(r.peer.recalls).toEqual([1]);
    // No RESET was needed: the error belonged to the resend of the recall.
    expect(r.peer.received.filter((m) => m.type === 0x0200)).toHaveLength(1);
    expect(statusesAfter(r, seen)).toEqual([]);
  });

  it('ERROR 0F 02 (abnormal message) fails that request at once; the camera is not taken for silent', async () => {
    const r = await start({});
    const seen = r.ctx.statuses.length;
    // From now on this camera refuses inquiries as an abnormal message type.
    r.peer.abnormalTypes.add(0x0110);
    const before = r.peer.received.length;
    await expect(r.act('position')).rejects.toMatchObject({
      code: 'DEVICE_ERROR',
      message: expect.stringMatching(/abnormal message/),
    });
    expect(r.peer.received.length - before).toBe(1); // not resent: the camera answered
    expect(statusesAfter(r, seen)).toEqual([]);
  });

  it('tolerates the error as a control reply (02 01), as some cameras send it', async () => {
    const r = await start({ motionMs: 0, errorPayloadType: 0x0201 });
    r.peer.loseNext('ack');
    r.peer.loseNext('completion');
    await r.act('preset.recall', { preset: 6 });
    expect(r.ctx.status).toBe('online');
  });
});

describe('drive commands, stop and liveness', () => {
  it('move answers at the ACK although the camera sends no Completion for drives; stop cancels nothing it does not hold', async () => {
    const r = await start({ driveCompletion: false });
    expect(await r.act('move', { direction: 'left' })).toEqual({ direction: 'left' });
    expect(r.ctx.state.moving).toBe(true);
    expect(await r.act('stop')).toEqual({ stopped: true });
    expect(r.ctx.state.moving).toBe(false);
    expect(r.peer.drives).toEqual(['01 03', '03 03']);
  });

  it('stop cancels a running recall with Cancel 8x 2z FF in its socket', async () => {
    const r = await start({ motionMs: 60_000 });
    const recall = settled(r.act('preset.recall', { preset: 4 }));
    await until(() => r.peer.busySockets === 1, 'recall running');
    expect(r.ctx.state.moving).toBe(true);
    await r.act('stop');
    expect(String(await recall)).toMatch(/command canceled/);
    expect(r.peer.cancels).toEqual([1]);
    expect(r.peer.busySockets).toBe(0);
    expect(r.ctx.state.moving).toBe(false);
  });

  it('the liveness poll still runs while a long move is pending: a camera that goes silent mid-move goes offline', async () => {
    const r = await start({ motionMs: 60_000 }, { poll_interval_ms: 200 });
    const recall = settled(r.act('preset.recall', { preset: 4 }));
    await until(() => r.peer.busySockets === 1, 'recall running');
    r.peer.silent = true;
    await until(() => r.ctx.status === 'offline', 'offline while the move is pending', 10_000);
    expect(await recall).toMatchObject({ code: 'DEVICE_OFFLINE' });
  });
});

describe('on the host lifecycle (handshake = RESET + inquiries, probe = power inquiry)', () => {
  it('a camera silent from boot is offline (not connecting forever) and online once it answers; each handshake starts with RESET', async () => {
    const peer = await new ManualSonyPeer({}).start();
    peer.silent = true;
    const ctx = recordingContext();
    const cam = new ViscaCamera(viscaConfig({ framing: 'sony-udp', ...fast, ...peer.endpoint }), ctx);
    rig = { peer, cam, ctx, act: async () => undefined };
    await cam.start();
    await until(() => ctx.status === 'offline', 'offline from boot');
    expect(ctx.statuses.map((s) => s.status)).not.toContain('online');
    expect(ctx.statuses.at(-1)!.message).toMatch(/RESET|not answering|no reply/);
    // Every message the silent camera got was a RESET: nothing else is sent before the handshake passed.
    expect(peer.received.length).toBeGreaterThan(0);
    expect(peer.received.every((m) => m.hex === '02 00 00 01 00 00 00 00 01' || m.type === 0x0200)).toBe(true);
    peer.silent = false;
    await until(() => ctx.status === 'online', 'online when it answers');
    expect(ctx.statuses.at(-1)!.message).toMatch(/RESET/);
  });

  it('raw-tcp refused from boot is offline with the reason', async () => {
    const { default: net } = await import('node:net');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const peer = await new ManualSonyPeer({}).start(); // unused: keeps afterEach uniform
    const ctx = recordingContext();
    const cam = new ViscaCamera(viscaConfig({ framing: 'raw-tcp', ...fast, host: '127.0.0.1', port }), ctx);
    rig = { peer, cam, ctx, act: async () => undefined };
    await cam.start();
    await until(() => ctx.status === 'offline', 'offline from boot');
    expect(ctx.statuses.at(-1)!.message).toMatch(/ECONNREFUSED/);
  });

  it('the probe runs every poll_interval_ms and a camera that stops answering goes offline', async () => {
    const r = await start({}, { poll_interval_ms: 150 });
    const before = r.peer.received.length;
    await until(() => r.peer.received.slice(before).some((m) => m.hex.endsWith('81 09 04 00 FF')), 'power inquiry probe');
    r.peer.silent = true;
    await until(() => r.ctx.status === 'offline', 'offline after a missed probe');
  });
});

describe('VISCA over IP (UDP) faults', () => {
  it('garbage datagrams from the camera are skipped, counted and summarised in one log line; the camera stays online and works', async () => {
    const r = await start({});
    const seen = r.ctx.statuses.length;
    const junk = [
      Buffer.from('not visca at all'), // text
      Buffer.from([0x01, 0x11, 0x00]), // a header cut short
      Buffer.from([0x01, 0x11, 0x00, 0x40, 0, 0, 0, 9, 0x90, 0x50, 0xff]), // length says 64, 3 bytes follow
      Buffer.from([0x7e, 0x7e, 0x00, 0x03, 0, 0, 0, 9, 0x90, 0x50, 0xff]), // a payload type Sony does not define
      Buffer.from([0x01, 0x11, 0x00, 0x03, 0, 0, 0, 9, 0x12, 0x34, 0x56]), // a reply payload that is no VISCA message
    ];
    for (let i = 0; i < 500; i++) r.peer.sendRaw(junk[i % junk.length]!);
    await until(() => r.cam.session.stats.garbageBytes > 0, 'garbage counted');
    expect(await r.act('preset.recall', { preset: 2 })).toEqual({ preset: 2, name: null });
    expect(await r.act('position')).toEqual({ pan: 0, tilt: 0, zoom: 0 });
    const summaries = r.ctx.logs.filter((l) => String(l.msg).includes('not VISCA'));
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(2);
    expect(statusesAfter(r, seen)).toEqual([]);
  });

  it('a camera whose replies are all lost on the way (a one-way network fault) goes offline and returns by itself', async () => {
    const r = await start({}, { poll_interval_ms: 500 });
    r.peer.silent = true;
    await until(() => r.ctx.status === 'offline', 'offline while every reply is lost');
    expect(r.ctx.statuses.at(-1)?.message).toBeTruthy();
    r.peer.silent = false;
    await until(() => r.ctx.status === 'online', 'online again without a restart');
    expect(await r.act('position')).toEqual({ pan: 0, tilt: 0, zoom: 0 });
  });
});

describe('lifecycle rules for actions', () => {
  it('one command with no reply after all resends fails that action (DEVICE_TIMEOUT) and is no offline blip', async () => {
    const r = await start({});
    const seen = r.ctx.statuses.length;
    r.peer.loseNextRequests(fast.retries + 1); // the command and every resend are lost
    await expect(r.act('preset.store', { preset: 2 })).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    expect(statusesAfter(r, seen)).toEqual([]);
    await r.act('preset.store', { preset: 2 });
    expect(statusesAfter(r, seen)).toEqual([]);
  });
});
