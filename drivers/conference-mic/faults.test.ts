// Faults of a conference system on its serial port (binding-mock, a peer the
// test scripts byte by byte) and on UDP: garbage, silence, the adapter
// vanishing and coming back. Frames are the vendor's own examples: Sennheiser
// SDC 8000 camera control protocol (manual pp.110-111: `%M00030110` delegate 3
// on, `%m00030130` off, each checked by hand), Televic Confidea G3 camera
// control (manual p.85: `{"UID": 7, "status": 1}`).
import dgram from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { setSerialBinding } from '../../src/transport/index.js';
import { type SerialPeer, serialDevice } from '../../src/transport/serial-mock.js';
import { startTestAgent, type TestAgent } from '../../test/support/agent.js';
import { until } from '../../test/support/wait.js';

let agent: TestAgent | null = null;
afterEach(async () => {
  await agent?.stop();
  agent = null;
  setSerialBinding(null);
});

interface LogLine {
  level: number;
  msg: string;
  suppressed?: number;
}

async function startAgent(device: string) {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as LogLine) });
  agent = await startTestAgent(`[devices.conf]\ndriver = "conference-mic"\n${device}`, { features: [], logger });
  const a = agent;
  const status = () => a.agent.devices.get('conf')?.status;
  const on = () => ((a.agent.devices.values('conf').active as number[] | undefined) ?? []).join();
  const badFrames = () => (a.agent.devices.values('conf').bad_frames as number | undefined) ?? 0;
  const dropped = () => lines.filter((l) => l.msg === 'frame dropped');
  return { status, on, badFrames, dropped };
}

/** An SDC 8000 on a binding-mock serial port: the test sends what the unit would. */
function sdcPort(name: string) {
  const path = `/dev/ROBOT-${name}-${process.pid}`;
  let peer: SerialPeer | null = null;
  let opens = 0;
  const dev = serialDevice(path, {
    onOpen: (p) => {
      peer = p;
      opens++;
      // The unit's periodic sync (appendix A: every ~5 s), here at once: an SDC 8000 is online once heard.
      p.send('%S00000113\r');
    },
    onData: () => undefined,
    onClose: () => {
      peer = null;
    },
  });
  setSerialBinding(dev.binding);
  return {
    path,
    dev,
    send: (s: string | Buffer) => peer?.send(s),
    get open() {
      return peer?.open === true;
    },
    get opens() {
      return opens;
    },
  };
}

const SDC = (path: string, extra = '') =>
  `protocol = "sdc8000"\ntransport = "serial"\npath = "${path}"\nreconnect_min_ms = 50\nreconnect_max_ms = 200\n${extra}`;

describe('conference-mic faults: serial', () => {
  it('a flood of garbage is dropped and logged at most 5 times; the next real frame still counts', async () => {
    const port = sdcPort('garbage');
    const d = await startAgent(SDC(port.path));
    await until(() => d.status()?.status === 'online' && port.open, 'online');
    // 1,000 frames that are not SDC 8000: wrong checksum, no CRC at all, binary noise.
    for (let i = 0; i < 1000; i++) {
      port.send(i % 3 === 0 ? '%M00030111\r' : i % 3 === 1 ? '%Q\r' : Buffer.from([0x00, 0xff, 0x25, 0x0d]));
    }
    port.send('%M00030110\r');
    await until(() => d.on() === '3', 'delegate 3 on after the garbage');
    expect(d.badFrames()).toBeGreaterThanOrEqual(1000);
    expect(d.dropped()).toHaveLength(5);
    expect(d.status()?.status).toBe('online');
  });

  it('with sync_timeout_ms = 0 a silent unit is not a fault: the port stays online and the next frame counts', async () => {
    const port = sdcPort('silent');
    const d = await startAgent(SDC(port.path, 'sync_timeout_ms = 0\n'));
    await until(() => d.status()?.status === 'online' && port.open, 'online');
    port.send('%M00030110\r');
    await until(() => d.on() === '3', 'delegate 3 on');
    // Nothing for a while and no liveness configured: no probe, no reconnect.
    const opens = port.opens;
    await new Promise((r) => setTimeout(r, 1500));
    expect(d.status()?.status).toBe('online');
    expect(port.opens).toBe(opens);
    expect(d.on()).toBe('3');
    port.send('%m00030130\r');
    await until(() => d.on() === '', 'delegate 3 off');
  });

  it('the adapter vanishing: offline with every microphone off, back online by itself when it returns', async () => {
    const port = sdcPort('vanish');
    const d = await startAgent(SDC(port.path));
    await until(() => d.status()?.status === 'online' && port.open, 'online');
    port.send('%M00030110\r');
    await until(() => d.on() === '3', 'delegate 3 on');
    port.dev.unplug();
    await until(() => d.status()?.status === 'offline', 'offline when the adapter is pulled');
    // A microphone seen on before the loss is not shown as on while nothing is known.
    expect(d.on()).toBe('');
    expect(d.status()?.message).toMatch(/next attempt in/);
    const opensWhileGone = port.opens;
    await new Promise((r) => setTimeout(r, 500));
    expect(port.opens).toBe(opensWhileGone); // reopening fails while it is gone
    port.dev.plugIn();
    await until(() => d.status()?.status === 'online' && port.open, 'online again without a restart');
    port.send('%M00030110\r');
    await until(() => d.on() === '3', 'frames count again');
  });
});

describe('conference-mic faults: UDP', () => {
  it('a flood of junk datagrams is dropped and logged at most 5 times; real events still count', async () => {
    const d = await startAgent('protocol = "confidea"\nhost = "127.0.0.1"\nlisten_port = 0\n');
    await until(() => d.status()?.status === 'online', 'online');
    const port = agent!.agent.devices.values('conf').listen_port as number;
    const unit = dgram.createSocket('udp4');
    const send = (text: string) =>
      new Promise<void>((r, j) => unit.send(Buffer.from(text), port, '127.0.0.1', (e) => (e ? j(e) : r())));
    try {
      // Paced (UDP drops what the receiver has no room for): 1,000 junk datagrams, 20 at a time.
      for (let i = 0; i < 1000; i++) {
        await send(i % 2 ? 'not json' : '{"UID": "seven", "status": 9}');
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => d.badFrames() >= 500, `most junk seen (${d.badFrames()})`);
      // A real event after the flood: sent until it is seen (a datagram may be lost), bounded by time.
      for (const end = Date.now() + 10_000; d.on() !== '7' && Date.now() < end; ) {
        await send('{"UID": 7, "status": 1}');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(d.on()).toBe('7');
      expect(d.dropped()).toHaveLength(5);
      expect(d.status()?.status).toBe('online');
    } finally {
      unit.close();
    }
  });
});
