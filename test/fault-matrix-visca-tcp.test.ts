// The fault matrix (issue 17) for VISCA's third framing: raw VISCA over a TCP
// stream (`framing = "raw-tcp"`, PTZOptics/Avonic style: the RS-232 bytes with
// no header, port 5678 [PROTOCOLS §1.4]). The shared TCP matrix runs it
// (test/support/fault-matrix.ts): a scriptable peer on a real socket in front of
// the VISCA simulator (drivers/visca/simulator.ts, written from the Sony command
// list), the real host, state store and alerts on a fake clock. Sony VISCA over
// IP (UDP) and RS-232 are in test/fault-matrix-visca.test.ts.
//
// A TCP stream has no message boundaries: a message ends at its FF. So this
// file also plays a camera of its own, written from the Sony command list
// (message table of PROTOCOLS §1.1: ACK `90 4z FF`, Completion `90 5z FF`,
// inquiry reply `90 50 … FF`, errors `90 6z ee FF`), that cuts its replies
// across chunks, merges several in one chunk and puts junk between them.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { viscaDriver } from '../drivers/visca/index.js';
import { ViscaSimulator } from '../drivers/visca/simulator.js';
import { viscaConfig } from '../drivers/visca/test-support.js';
import { AgentError } from '../src/util/errors.js';
import { describeFaultMatrix } from './support/fault-matrix.js';
import { type Rig, startRig } from './support/fault-rig.js';

const REPLY_MS = 1000;
const RETRIES = 2;
/** raw-tcp waits the reply timeout `retries + 1` times without resending: the request timeout the matrix sees. */
const REQUEST_MS = REPLY_MS * (RETRIES + 1);
const POLL_MS = 10_000;

const config = (port: number, extra: Record<string, unknown> = {}) =>
  viscaConfig({
    framing: 'raw-tcp',
    host: '127.0.0.1',
    port,
    // The default retries: over TCP they are waited out, never resent (the "just under / over" case).
    reply_timeout_ms: REPLY_MS,
    retries: RETRIES,
    poll_interval_ms: POLL_MS,
    completion_timeout_ms: 5000,
    ...extra,
  }) as unknown as Record<string, unknown>;

describeFaultMatrix('visca (raw-tcp)', {
  driver: viscaDriver,
  device: async () => {
    const sim = await new ViscaSimulator({ framing: 'raw-tcp', motionMs: 10 }).start();
    return Object.assign(sim, { host: '127.0.0.1', port: sim.endpoint.port as number });
  },
  config: (port) => config(port),
  probeIntervalMs: POLL_MS,
  requestTimeoutMs: REQUEST_MS,
  reject: {
    notApplicable:
      'VISCA has no login or session to refuse: over raw TCP the handshake is the power and last-preset inquiries, ' +
      'and a camera that answers them with an error (`90 60 02 FF` syntax error, `90 60 41 FF` not executable in ' +
      'standby) has answered — it is reachable and can be powered on [Sony BRC-X400 command list, "Error message"; ' +
      'PROTOCOLS §1.1]. The garbage case is the camera that says nothing VISCA.',
  },
  // Home: ACK `90 4z FF`, then Completion `90 5z FF` when the move ends.
  action: { name: 'home', params: {} },
  change: {
    // Standby set by the IR remote or another controller: nothing is sent unsolicited in VISCA,
    // the probe's power inquiry (`81 09 04 00 FF` → `90 50 03 FF`) shows it.
    make: (sim) => {
      sim.model.power = 'standby';
    },
    seen: (state) => state.power === 'standby',
    withinMs: POLL_MS + REQUEST_MS + 500,
  },
  // Over IP the camera's address is fixed (replies start `90`) and nothing in raw VISCA depends on the
  // agent's config in a way the camera could refuse [PROTOCOLS §1.1, "y = 9 (fixed) for VISCA over IP"].
  configError: null,
});

// ---- A raw-TCP camera from the Sony command list that chunks its replies its own way ----

type Chunking = 'whole' | 'split' | 'merged' | 'junk-between';

const b = (...bytes: number[]) => Buffer.from(bytes);
const nibbles = (v: number) => [(v >> 12) & 0xf, (v >> 8) & 0xf, (v >> 4) & 0xf, v & 0xf];
/** What the camera reports (Sony BRC-X400 inquiry list: pan/tilt 4 nibbles each, 16-bit two's complement; zoom 4 nibbles). */
const PAN = 0x0123;
const TILT = 0xff00; // −256
const ZOOM = 0x1a2b;
const ACK1 = b(0x90, 0x41, 0xff);
const DONE1 = b(0x90, 0x51, 0xff);

/** Replies for one packet from the controller (camera 1, header 81). */
function answer(p: Buffer): Buffer[] {
  const hex = p.toString('hex');
  switch (hex) {
    case '81090400ff': // power inquiry → on
      return [b(0x90, 0x50, 0x02, 0xff)];
    case '8109043fff': // last recalled preset → none (7F)
      return [b(0x90, 0x50, 0x7f, 0xff)];
    case '81090612ff': // pan-tilt position inquiry
      return [b(0x90, 0x50, ...nibbles(PAN), ...nibbles(TILT), 0xff)];
    case '81090447ff': // zoom position inquiry
      return [b(0x90, 0x50, ...nibbles(ZOOM), 0xff)];
    case '81010604ff': // home: ACK, then Completion
      return [ACK1, DONE1];
  }
  if (/^8101043f02[0-9a-f]{2}ff$/.test(hex)) return [ACK1, DONE1]; // preset recall
  return [b(0x90, 0x60, 0x02, 0xff)]; // syntax error
}

class ChunkingCamera {
  chunking: Chunking = 'whole';
  /** Every packet received, as hex. */
  readonly received: string[] = [];
  /** Every write to the agent, as hex (to show how replies were cut). */
  readonly writes: string[] = [];
  lastTrafficAt = 0;
  port = 0;
  /** A slow camera: packets are read, but their replies wait until `release()`. */
  holding = false;
  private held: (() => void)[] = [];
  private readonly server = net.createServer((s) => this.serve(s));
  private readonly clients = new Set<net.Socket>();

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }
  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private serve(s: net.Socket): void {
    this.clients.add(s);
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.on('close', () => this.clients.delete(s));
    let pending = Buffer.alloc(0);
    let writing = Promise.resolve();
    s.on('data', (d) => {
      this.lastTrafficAt = Date.now();
      pending = Buffer.concat([pending, d]);
      for (let end = pending.indexOf(0xff); end >= 0; end = pending.indexOf(0xff)) {
        const packet = pending.subarray(0, end + 1);
        pending = pending.subarray(end + 1);
        this.received.push(packet.toString('hex'));
        const replies = answer(packet);
        const reply = () => {
          writing = writing.then(() => this.send(s, replies));
        };
        if (this.holding) this.held.push(reply);
        else reply();
      }
    });
  }

  /** Sends the replies held while `holding`, in order, and stops holding. */
  release(): void {
    this.holding = false;
    for (const r of this.held.splice(0)) r();
  }

  /** Writes the replies cut as `chunking` says, with a real pause between pieces so each arrives as its own chunk. */
  private async send(s: net.Socket, replies: Buffer[]): Promise<void> {
    const all = Buffer.concat(replies);
    let pieces: Buffer[];
    switch (this.chunking) {
      case 'whole':
        pieces = replies;
        break;
      case 'merged':
        pieces = [all];
        break;
      case 'split':
        // Cut inside a message, and one piece holding the end of one message and the start of the next.
        pieces = [all.subarray(0, 1), all.subarray(1, 4), all.subarray(4)].filter((x) => x.length > 0);
        break;
      case 'junk-between': {
        const junk = b(0x12, 0x00, 0xff, 0x7e, 0x41, 0x0d, 0x0a);
        pieces = [Buffer.concat(replies.flatMap((r) => [junk, r]))];
        break;
      }
    }
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 15));
      if (s.destroyed) return;
      this.writes.push(piece.toString('hex'));
      this.lastTrafficAt = Date.now();
      s.write(piece);
    }
  }
}

describe('fault matrix: visca (raw-tcp), replies cut anywhere in the stream', { timeout: 60_000 }, () => {
  let cam: ChunkingCamera | null = null;
  let rig: Rig | null = null;
  afterEach(async () => {
    await rig?.stop();
    await cam?.stop();
    rig = null;
    cam = null;
  });

  async function online(extra: Record<string, unknown> = {}): Promise<{ cam: ChunkingCamera; rig: Rig }> {
    cam = await new ChunkingCamera().start();
    const c = cam;
    // While the camera is writing, fake time runs at most 10× real time (as the matrix peer's `pace`).
    const pace = async (stepMs: number) => {
      if (Date.now() - c.lastTrafficAt < 200) await new Promise((r) => setTimeout(r, Math.ceil(stepMs / 10)));
    };
    rig = await startRig(viscaDriver, config(cam.port, { reply_timeout_ms: 2000, poll_interval_ms: 600_000, ...extra }), pace);
    const r = rig;
    await r.pump(() => r.status === 'online', 'online', 30_000);
    return { cam, rig: r };
  }

  /** Runs an action while the fake clock moves (its replies come over real sockets). */
  async function act(r: Rig, name: string, params: Record<string, unknown> = {}): Promise<unknown> {
    let settled = false;
    const p = r.invoke(name, params);
    const done = () => {
      settled = true;
    };
    p.then(done, done);
    await r.pump(() => settled, name, 10_000, 10);
    return p;
  }

  for (const chunking of ['split', 'merged', 'junk-between'] as const) {
    it(`${chunking}: the recall answers at its Completion, the position reads whole, nothing is resent`, async () => {
      const { cam, rig } = await online();
      cam.chunking = chunking;
      const from = cam.received.length;
      const writesFrom = cam.writes.length;
      expect(await act(rig, 'preset.recall', { preset: 3 })).toEqual({ preset: 3, name: null });
      expect(await act(rig, 'position')).toEqual({ pan: PAN, tilt: TILT - 0x10000, zoom: ZOOM });
      // Each message once: no reply was missed and resent for.
      expect(cam.received.slice(from)).toEqual(['8101043f0202ff', '81090612ff', '81090447ff']);
      const writes = cam.writes.slice(writesFrom);
      if (chunking === 'split') expect(writes.slice(0, 3)).toEqual(['90', '41ff90', '51ff']);
      if (chunking === 'merged') expect(writes[0]).toBe('9041ff9051ff');
      expect(rig.state().position).toEqual({ pan: PAN, tilt: TILT - 0x10000, zoom: ZOOM });
      expect(rig.statuses).not.toContain('offline');
    });
  }

  it('a slow camera is waited for, not sent the command again: TCP loses nothing, and a duplicate’s ACK would be taken for the next message’s', async () => {
    // Default retries (2): the reply comes after more than one reply timeout.
    const { cam, rig } = await online({ reply_timeout_ms: 1000, retries: 2 });
    const from = cam.received.length;
    cam.holding = true;
    let recalled = false;
    let homed = false;
    const recall = rig.invoke('preset.recall', { preset: 3 }).then(() => {
      recalled = true;
    });
    const home = rig.invoke('home').then(() => {
      homed = true;
    });
    await rig.advance(1500, 50);
    cam.release();
    await rig.pump(() => recalled && homed, 'the recall and home answered', 10_000, 10);
    await Promise.all([recall, home]);
    // The recall reached the camera once, and home was answered by home's own replies after it was sent.
    expect(cam.received.slice(from)).toEqual(['8101043f0202ff', '81010604ff']);
    expect(rig.statuses).not.toContain('offline');
  });

  it('an error answer is an answer: the action fails with the camera’s words, the camera stays online', async () => {
    const { rig } = await online();
    // The camera answers `90 60 02 FF` (syntax error) to a zoom position it does not have.
    const err = (await act(rig, 'zoom', { op: 'direct', position: 0x7fff }).catch((e: unknown) => e)) as AgentError;
    expect(err).toBeInstanceOf(AgentError);
    expect(err.code).toBe('DEVICE_ERROR');
    expect(err.message).toMatch(/syntax error/);
    expect(rig.status).toBe('online');
  });
});
