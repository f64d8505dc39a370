// The units' side of three delegate systems' camera-control outputs, played
// from the vendors' documents only (never from our driver: this file imports
// nothing of drivers/conference-mic, and test/simulator-independence.test.ts
// checks it). Each rule below names its document and section:
//
// - Taiden HCS-3600 installation and operating manual, ch. 8.1 "Control
//   Protocol of Conference Main Unit" (p.106), item 3 "Video track command",
//   and taiden.com/doce/solution2.htm §4 "Video tracking command" with its
//   NOTE (1)-(4). RS-232 9600 8N1.
// - Sennheiser SDC 8000 manual, appendix A "Camera control protocol"
//   (pp.110-111; the same appendix is SDC 8200 pp.120-121 and Televic TCS5500
//   appendix B pp.87-89). RS-232 (COM 2) 19200 8N1.
// - Televic Confidea G3 manual, "Camera control" (p.85; Confidea manual
//   §11.1.2-11.1.3 p.43; Televic KB 13329). UDP to a configured address,
//   default port 8000.
import dgram from 'node:dgram';
import net from 'node:net';
import { type SerialDevice, type SerialPeer, serialDevice } from '../../src/transport/serial-mock.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { type Clock, realClock, type TimerHandle } from '../../src/util/clock.js';

/** The unit whose camera output is played. */
export type ConferenceUnit = 'taiden' | 'sdc8000' | 'confidea';

// --- Taiden (HCS-3600 manual ch. 8.1 item 3; taiden.com solution2 §4) -------------------------
/** Controller → unit "Start video track" / "Stop video track" (3 bytes each). */
const TAIDEN_START_TRACK = 0xe4;
const TAIDEN_STOP_TRACK = 0xe5;
/** Controller → unit, ch. 8.1 item 1: `E6 F1 idH idL` mic on, `E6 F2 idH idL` mic off; `E3 ED 00` all off. */
const TAIDEN_MIC_ON = 0xf1;
const TAIDEN_MIC_OFF = 0xf2;
const TAIDEN_ALL_OFF = 0xed;
/** Unit → controller "Current tracking microphone": `E5 idH idL`, id 0 = panorama. */
const taidenTracking = (id: number) => Buffer.from([0xe5, (id >> 8) & 0xff, id & 0xff]);

// --- SDC 8000 (appendix A pp.110-111) -------------------------------------------------------
/** `%` + data + the 16-bit sum of the data's ASCII codes as 4 upper-case hex digits + CR (0x0D). */
function sdcFrame(data: string): string {
  let sum = 0;
  for (const ch of data) sum = (sum + ch.charCodeAt(0)) & 0xffff;
  return `%${data}${sum.toString(16).toUpperCase().padStart(4, '0')}\r`;
}
/** Mic.-No.(4): four decimal digits. */
const micNo = (id: number) => String(id).padStart(4, '0');
/** Line speeds: Taiden ch. 8.1 "Baud Rate is 9600 bps"; SDC 8000 appendix A "Bits per second: 19,200" (both 8N1). */
const BAUD: Partial<Record<ConferenceUnit, number>> = { taiden: 9600, sdc8000: 19200 };
/** The manual's sync interval: "at a time interval of approx. 5 seconds". */
export const SDC_SYNC_INTERVAL_MS = 5000;

// --- Confidea G3 (p.85) ----------------------------------------------------------------------
/** Status: 0 = off, 1 = on, 2 = request, 3 = prior. */
const CONFIDEA = { OFF: 0, ON: 1, REQUEST: 2, PRIOR: 3 } as const;
/** The manual's byte form: `{"UID": 7,"status": 2}` (a space after each colon, none after the comma). */
const confideaDatagram = (uid: number, status: number) => Buffer.from(`{"UID": ${uid},"status": ${status}}`, 'utf8');

export interface ConferenceMicSimulatorOptions {
  protocol: ConferenceUnit;
  transport: 'tcp' | 'udp' | 'serial';
  /** tcp: where to listen; udp: where to send (default 127.0.0.1). */
  host?: string;
  /** tcp: listen port (0 = any); udp: the agent's listen port (0 = pick a free one). */
  port?: number;
  /** serial: the port path the unit is on (a binding-mock port, registered in `simulatedSerialPorts`). */
  path?: string;
  chairman?: readonly number[];
  /** SDC 8000: the periodic sync (default 5000 ms, as the manual says); 0 = only on `sync()`. */
  syncIntervalMs?: number;
  /** The clock of the periodic sync (a fake clock in fault-matrix rigs); default the real one. */
  clock?: Clock;
  /**
   * Taiden: send tracking positions only after the controller's "Start video track" (`E3 E4 00`),
   * until "Stop video track" (default true). The manual lists both commands beside the output
   * without saying the output needs them; playing it strictly keeps a driver that never starts
   * tracking from passing here (docs/drivers/conference-mic.md).
   */
  taidenNeedsStart?: boolean;
}

/**
 * A delegate system's camera output on loopback TCP (a serial-to-IP gateway), UDP or a
 * binding-mock serial port. What each unit sends:
 * - Taiden: only the position to show — the mic just switched on; when one goes off, the
 *   chairman if on, else the lowest id, else the panorama (`E5 00 00`).
 * - SDC 8000: `%1R00` before the first mic's frame, `%M`/`%P` on, `%m`/`%p` off, `%1r00` after the
 *   last one went off, `%V0000` for all off at once (priority), `%S<ids>` every ~5 s (`%S0000` = none).
 * - Confidea: one JSON datagram per button event (`status` 0 off, 1 on, 2 request, 3 prior).
 * None of them greets, answers, or sends an error: a corrupted frame is the only error form.
 */
export class ConferenceMicSimulator {
  private readonly on = new Set<number>();
  private readonly chairman: Set<number>;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private udp: dgram.Socket | null = null;
  private serialDev: SerialDevice | null = null;
  private serialPeer: SerialPeer | null = null;
  private syncTimer: TimerHandle | null = null;
  private readonly clock: Clock;
  /** Taiden: tracking output started by the controller. */
  private tracking: boolean;
  /** Taiden: controller bytes not yet a whole command. */
  private input: Buffer = Buffer.alloc(0);
  /** Times the serial port was opened (the driver's reopen attempts). */
  serialOpens = 0;
  /** serial: the port was opened at another speed than the unit's: what it sends arrives as garbage. */
  private wrongBaud = false;
  /** The unit is switched on (it sends nothing while off; see `powerOff`). */
  private powered = true;
  private started = false;
  /** Every frame/datagram sent, in order (latin1 text), for tests that read the unit's side. */
  readonly sent: string[] = [];
  endpoint: Record<string, unknown> = {};
  /** UDP: where datagrams go (the driver's bound `listen_port`). */
  target = 0;

  constructor(private readonly o: ConferenceMicSimulatorOptions) {
    this.chairman = new Set(o.chairman ?? []);
    this.clock = o.clock ?? realClock;
    this.tracking = !(o.taidenNeedsStart ?? true);
  }

  async start(): Promise<void> {
    const host = this.o.host ?? '127.0.0.1';
    if (this.o.transport === 'tcp') {
      const server = net.createServer((s) => {
        this.sockets.add(s);
        s.on('data', (d: Buffer) => this.fromController(d));
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      });
      this.server = server;
      await new Promise<void>((r) => server.listen(this.o.port ?? 0, host, r));
      const a = server.address() as net.AddressInfo;
      this.endpoint = { transport: 'tcp', host: a.address, port: a.port };
    } else if (this.o.transport === 'udp') {
      const s = dgram.createSocket('udp4');
      this.udp = s;
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      let port = this.o.port ?? 0;
      if (port === 0) port = await freeUdpPort();
      this.target = port;
      this.endpoint = { transport: 'udp', host: '127.0.0.1', listen_port: port };
    } else {
      const path = this.o.path;
      if (!path) throw new Error('a serial conference-mic simulator needs "path"');
      this.serialDev = serialDevice(path, {
        onOpen: (peer, opened) => {
          this.serialOpens++;
          this.serialPeer = peer;
          const unit = BAUD[this.o.protocol];
          this.wrongBaud = unit !== undefined && opened.baudRate !== unit;
        },
        onData: (d) => this.fromController(d),
        onClose: () => {
          this.serialPeer = null;
        },
      });
      simulatedSerialPorts.set(path, this.serialDev.binding);
      this.endpoint = { transport: 'serial', path };
    }
    this.started = true;
    if (this.o.protocol === 'sdc8000' && this.powered) this.scheduleSync();
  }

  /**
   * The unit is switched off (or hangs) while its cable, gateway or adapter stays: it sends nothing,
   * not even the SDC 8000 sync, and forgets which microphones were on.
   */
  powerOff(): void {
    this.powered = false;
    this.on.clear();
    // Taiden: a restarted unit has forgotten "start video track" [inferred, as the start command itself].
    this.tracking = !(this.o.taidenNeedsStart ?? true);
    this.clock.clearTimeout(this.syncTimer);
    this.syncTimer = null;
  }

  /** The unit is switched on again: every microphone off, the SDC 8000 sync resumes. */
  powerOn(): void {
    if (this.powered) return;
    this.powered = true;
    if (this.o.protocol === 'sdc8000' && this.started) this.scheduleSync();
  }

  /** serial: the binding-mock binding of the unit's port (for `setSerialBinding` or a SerialLink's `binding`). */
  get binding(): SerialDevice['binding'] {
    if (!this.serialDev) throw new Error('not a serial simulator');
    return this.serialDev.binding;
  }

  /** serial: the USB adapter is pulled — the open port fails and cannot be reopened until `plugIn`. */
  unplug(): void {
    this.serialDev?.unplug();
  }

  /** serial: the adapter is back. */
  plugIn(): void {
    this.serialDev?.plugIn();
  }

  /** serial: every open of the port the driver tried, the failed ones included. */
  get serialOpenAttempts(): number {
    return this.serialDev?.openAttempts ?? 0;
  }

  /** serial: whether the driver has the port open. */
  get serialOpen(): boolean {
    return this.serialPeer?.open === true;
  }

  /** Taiden: whether the controller has started the tracking output. */
  get trackingStarted(): boolean {
    return this.tracking;
  }

  get clients(): number {
    return this.sockets.size;
  }

  /** Microphones that are on, ascending. */
  active(): number[] {
    return [...this.on].sort((a, b) => a - b);
  }

  /** A delegate (or chairman) presses the button: the microphone goes on. */
  micOn(id: number): void {
    if (this.on.has(id)) return;
    const first = this.on.size === 0;
    this.on.add(id);
    if (this.o.protocol === 'taiden') this.taidenShow(id);
    else if (this.o.protocol === 'sdc8000') {
      // "%1R: the first microphone is activated. The camera control is activated."
      if (first) this.send(sdcFrame('1R00'));
      this.send(sdcFrame(`${this.chairman.has(id) ? 'P' : 'M'}${micNo(id)}`));
    } else this.send(confideaDatagram(id, CONFIDEA.ON));
  }

  /** The microphone goes off. */
  micOff(id: number): void {
    if (!this.on.delete(id)) return;
    if (this.o.protocol === 'taiden') this.taidenShow(this.taidenAfterOff());
    else if (this.o.protocol === 'sdc8000') {
      this.send(sdcFrame(`${this.chairman.has(id) ? 'p' : 'm'}${micNo(id)}`));
      // "%1r: all active microphones are deactivated [one after the other] and the camera control
      // should reset itself to a neutral starting position" (sent after the last one went off).
      if (this.on.size === 0) this.send(sdcFrame('1r00'));
    } else this.send(confideaDatagram(id, CONFIDEA.OFF));
  }

  /** Every microphone off at once (the chairman's priority key, or the operator's "all off"). */
  allOff(): void {
    const were = this.active();
    this.on.clear();
    if (this.o.protocol === 'taiden') this.taidenShow(0);
    // "%V0000: all active microphones are deactivated simultaneously" — one frame, no %m per mic.
    else if (this.o.protocol === 'sdc8000') this.send(sdcFrame('V0000'));
    // Confidea documents one datagram per microphone button event; no "all off" form [inferred: one OFF each].
    else for (const id of were) this.send(confideaDatagram(id, CONFIDEA.OFF));
  }

  /**
   * A delegate asks to speak. Only Confidea's camera output carries it (status 2); the SDC 8000
   * and Taiden camera outputs have no request form, so those units send nothing.
   */
  request(id: number): void {
    if (this.o.protocol === 'confidea') this.send(confideaDatagram(id, CONFIDEA.REQUEST));
  }

  /**
   * The chairman's priority: Confidea reports the microphone with status 3 ("prior"); the SDC 8000
   * switches every microphone off at once (`%V0000`) and reports the chairman on (`%P`); Taiden
   * shows the chairman (`E5 id`).
   */
  priority(id: number): void {
    if (this.o.protocol === 'confidea') {
      this.on.add(id);
      this.send(confideaDatagram(id, CONFIDEA.PRIOR));
      return;
    }
    if (this.o.protocol === 'sdc8000') {
      this.on.clear();
      this.send(sdcFrame('V0000'));
      this.on.add(id);
      this.send(sdcFrame('1R00'));
      this.send(sdcFrame(`P${micNo(id)}`));
      return;
    }
    this.on.add(id);
    this.taidenShow(id);
  }

  /** SDC 8000 synchronisation: the microphones that are on, or `0000` for none. */
  sync(): void {
    const ids = this.active();
    this.send(sdcFrame(`S${ids.length ? ids.map(micNo).join('') : micNo(0)}`));
  }

  /** Raw bytes as the unit would send them (e.g. a frame with a bad checksum). */
  send(data: Buffer | string): void {
    if (!this.powered) return;
    let buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    // A UART sampling at another speed reads framing errors and wrong bytes, never the unit's frames
    // [inferred]; modelled as 0xFF for every byte (so no "%", CR or E5 gets through).
    if (this.o.transport === 'serial' && this.wrongBaud) buf = Buffer.alloc(buf.length, 0xff);
    this.sent.push(buf.toString('latin1'));
    if (this.o.transport === 'tcp') for (const s of this.sockets) s.write(buf);
    else if (this.o.transport === 'udp') this.udp?.send(buf, this.target, this.o.host ?? '127.0.0.1');
    else this.serialPeer?.send(buf);
  }

  /** Drops TCP clients (the gateway rebooted). */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.syncTimer);
    this.syncTimer = null;
    this.dropClients();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (this.o.path && simulatedSerialPorts.get(this.o.path) === this.serialDev?.binding)
      simulatedSerialPorts.delete(this.o.path);
  }

  private scheduleSync(): void {
    const every = this.o.syncIntervalMs ?? SDC_SYNC_INTERVAL_MS;
    if (every <= 0) return;
    this.syncTimer = this.clock.setTimeout(() => {
      this.sync();
      this.scheduleSync();
    }, every);
  }

  /** Taiden: "Current tracking microphone", while tracking runs. */
  private taidenShow(id: number): void {
    if (this.tracking) this.send(taidenTracking(id));
  }

  /**
   * Taiden NOTE (2)-(4): one mic off → panorama when it was the only one; else the chairman if
   * on, else the lowest id that is still on.
   */
  private taidenAfterOff(): number {
    const on = this.active();
    return on.find((id) => this.chairman.has(id)) ?? on[0] ?? 0;
  }

  /** Bytes from the controller. Only Taiden takes commands (ch. 8.1 items 1 and 3); the others only talk. */
  private fromController(d: Buffer): void {
    if (this.o.protocol !== 'taiden') return;
    this.input = Buffer.concat([this.input, d]);
    let i = 0;
    while (i < this.input.length) {
      const b = this.input[i];
      if (b === 0xe3) {
        if (i + 3 > this.input.length) break;
        const op = this.input[i + 1];
        if (op === TAIDEN_START_TRACK) this.tracking = true;
        else if (op === TAIDEN_STOP_TRACK) this.tracking = false;
        else if (op === TAIDEN_ALL_OFF) this.allOff();
        i += 3;
      } else if (b === 0xe6) {
        if (i + 4 > this.input.length) break;
        const op = this.input[i + 1];
        const id = (this.input[i + 2]! << 8) | this.input[i + 3]!;
        if (op === TAIDEN_MIC_ON) this.micOn(id);
        else if (op === TAIDEN_MIC_OFF) this.micOff(id);
        else if (op === TAIDEN_ALL_OFF) this.allOff();
        i += 4;
      } else i++;
    }
    this.input = this.input.subarray(i);
  }
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startConferenceMicSimulator(o: ConferenceMicSimulatorOptions): Promise<ConferenceMicSimulator> {
  const sim = new ConferenceMicSimulator(o);
  await sim.start();
  return sim;
}
