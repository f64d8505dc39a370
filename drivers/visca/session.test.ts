// The session on a fake clock against the camera model, with random loss,
// garbage and chunking: every request settles (no hangs, no leaks), and
// without faults every request succeeds in order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/util/clock.js';
import { CameraModel } from './camera-model.js';
import { encode } from './protocol.js';
import { CameraStreamDecoder, parseCameraRequest } from './sim-codec.js';
import { ViscaSession } from './session.js';

interface Faults {
  dropRequest: number;
  dropReply: number;
  garbage: number;
  seed: number;
}

/** Runs `n` recalls and position inquiries through a session wired to a model; returns how each settled. */
async function scenario(n: number, f: Faults): Promise<{ outcomes: string[]; pending: number; recalled: number[] }> {
  const clock = new FakeClock();
  const model = new CameraModel({ motionMs: 0 });
  let rnd = f.seed;
  const random = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd / 2 ** 31;
  };
  const toSession: Buffer[] = [];
  // The camera side reads with the simulator's own codec (the manual's witness), not the driver's.
  const fromSession = new CameraStreamDecoder();
  const recalled: number[] = [];
  const session = new ViscaSession({
    // A byte stream that can lose and garble bytes: RS-232 (raw TCP does not resend, see session.ts).
    framing: 'serial',
    address: 1,
    clock,
    replyTimeoutMs: 100,
    retries: 2,
    completionTimeoutMs: 1000,
    busyRetryMs: 20,
    maxQueue: 1000,
    onUnresponsive: () => undefined,
    onNetworkChange: () => undefined,
    onGarbage: () => undefined,
    write: (bytes) => {
      for (const p of fromSession.push(bytes)) {
        if (random() < f.dropRequest) continue;
        const req = parseCameraRequest(p);
        if (req.kind === 'preset' && req.op === 'recall') recalled.push(req.byte);
        model.handle(req, (reply) => {
          if (random() < f.dropReply) return;
          const junk = random() < f.garbage ? Buffer.from([0x01, 0x7f, 0xff]) : Buffer.alloc(0);
          toSession.push(Buffer.concat([junk, reply]));
        });
      }
    },
  });
  const outcomes: string[] = new Array(n).fill('pending');
  const all = Array.from({ length: n }, (_, i) => {
    const p =
      i % 3 === 2
        ? session.inquiry(`inq ${i}`, encode.inqPanTilt(1))
        : session.command(`recall ${i}`, encode.preset(1, 'recall', i % 50));
    return p.then(
      () => {
        outcomes[i] = 'ok';
      },
      (e: Error & { code?: string }) => {
        outcomes[i] = e.code ?? 'error';
      },
    );
  });
  // Deliver replies in random pieces, moving fake time forward in small steps.
  for (let step = 0; step < 20_000 && outcomes.includes('pending'); step++) {
    const chunk = toSession.splice(0);
    const bytes = Buffer.concat(chunk);
    let at = 0;
    while (at < bytes.length) {
      const len = 1 + Math.floor(random() * 6);
      session.receive(bytes.subarray(at, at + len));
      at += len;
    }
    await Promise.resolve();
    if (toSession.length === 0) clock.advance(10);
  }
  await Promise.all(all);
  return { outcomes, pending: session.pending, recalled };
}

describe('ViscaSession (fake clock, camera model)', () => {
  it('without faults every request succeeds and recalls reach the camera in order', async () => {
    const r = await scenario(30, { dropRequest: 0, dropReply: 0, garbage: 0, seed: 1 });
    expect(r.outcomes.every((o) => o === 'ok')).toBe(true);
    expect(r.pending).toBe(0);
    expect(r.recalled).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 3 !== 2)
        .map((i) => i % 50),
    );
  });

  it('under random loss, garbage and chunking every request settles and nothing is left pending', async () => {
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          dropRequest: fc.double({ min: 0, max: 0.4, noNaN: true }),
          dropReply: fc.double({ min: 0, max: 0.4, noNaN: true }),
          garbage: fc.double({ min: 0, max: 0.5, noNaN: true }),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        async (faults) => {
          const r = await scenario(12, faults);
          failures += r.outcomes.filter((o) => o !== 'ok').length;
          expect(r.outcomes).not.toContain('pending');
          for (const o of r.outcomes) expect(['ok', 'DEVICE_TIMEOUT', 'DEVICE_ERROR', 'DEVICE_BUSY']).toContain(o);
          expect(r.pending).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
    // The faults did bite: some requests failed somewhere along the runs.
    expect(failures).toBeGreaterThan(0);
  });
});
