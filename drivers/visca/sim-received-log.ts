// ViscaSimulator.received: every message the camera decoded, for tests to assert on, without an
// object per message. A record kept for every message survives the camera process's
// scavenges (~200 KB copied per scavenge at 1,000 messages between two) and fills its old
// generation; a real camera pays nothing for a log, and in `room-agent simulate` nobody reads
// it. So a message's bytes, time, peer and preset number wait in typed arrays (a ring of the
// last LOG_MAX), and the records are built, as before, when the log is read: the request
// read again from the same bytes by the same pure parser (sim-codec.ts), `hex` from them.
// While someone listens to the simulator's 'command' event, records are built at once.
import { type CameraRequest, hexRange, PACKET_MAX, readCameraRequest } from './sim-codec.js';

/** One message the camera received, decoded. */
export interface ReceivedCommand {
  at: number;
  request: CameraRequest;
  /** For preset commands: the preset number as the camera's menu counts it. */
  preset?: number;
  /** Who sent it: "udp:127.0.0.1:40000", "tcp:…", "serial". */
  peer: string;
  hex: string;
}

/** The log keeps at most LOG_MAX messages: past it, the oldest LOG_DROP go. */
const LOG_MAX = 10_000;
const LOG_DROP = 5_000;
/** Bytes of one message: the longest packet the readers pass on is PACKET_MAX + 1 (an over-long run). */
const SLOT = PACKET_MAX + 1;
/** The ring's first size; it doubles up to LOG_MAX. */
const FIRST_CAPACITY = 64;

function record(at: number, request: CameraRequest, peer: string, hex: string, preset: number | undefined): ReceivedCommand {
  const rec: ReceivedCommand = { at, request, peer, hex };
  if (preset !== undefined) rec.preset = preset;
  return rec;
}

export class ReceivedLog {
  /** The records built so far: the array `list` returns (tests may splice it). */
  private readonly records: ReceivedCommand[] = [];
  private readonly peerNames: string[] = [];
  private readonly peerIds = new Map<string, number>();
  // The ring of messages not yet built: slot i holds bytes[i*SLOT, i*SLOT + lengths[i]).
  private bytes = new Uint8Array(0);
  private lengths = new Uint8Array(0);
  private times = new Float64Array(0);
  private peers = new Int32Array(0);
  private presets = new Float64Array(0);
  /** 1 where the message is a preset command (presets[slot] is its number). */
  private hasPreset = new Uint8Array(0);
  private capacity = 0;
  /** Slot of the oldest message held. */
  private head = 0;
  /** Messages held in the ring (the last `held` of the `waiting`). */
  private held = 0;
  /** Messages since the records were last built, held or not. */
  private waiting = 0;

  /**
   * Logs the message bytes[start, end), which `request` was read from; `preset` as the camera's
   * menu counts it, for preset commands. Nothing is kept of `request` or `bytes`.
   */
  add(
    request: CameraRequest,
    bytes: Uint8Array,
    start: number,
    end: number,
    at: number,
    peer: string,
    preset: number | undefined,
  ): void {
    const length = end - start;
    if (length > SLOT) {
      this.push(request, bytes, start, end, at, peer, preset);
      return;
    }
    if (this.held === this.capacity) {
      if (this.capacity < LOG_MAX) this.grow();
      else {
        // Full: the oldest held message could not outlive the trim anyway.
        this.head = (this.head + 1) % this.capacity;
        this.held--;
      }
    }
    const slot = (this.head + this.held) % this.capacity;
    const at0 = slot * SLOT;
    for (let i = 0; i < length; i++) this.bytes[at0 + i] = bytes[start + i];
    this.lengths[slot] = length;
    this.times[slot] = at;
    this.peers[slot] = this.peerId(peer);
    this.presets[slot] = preset ?? 0;
    this.hasPreset[slot] = preset === undefined ? 0 : 1;
    this.held++;
    this.waiting++;
  }

  /** Logs a message as a record at once (after the waiting ones), with `request` itself, and returns it. */
  push(
    request: CameraRequest,
    bytes: Uint8Array,
    start: number,
    end: number,
    at: number,
    peer: string,
    preset: number | undefined,
  ): ReceivedCommand {
    const records = this.list;
    const rec = record(at, request, peer, hexRange(bytes, start, end), preset);
    records.push(rec);
    if (records.length > LOG_MAX) records.splice(0, LOG_DROP);
    return rec;
  }

  /** Every message logged, oldest first, as records; the last LOG_MAX at most, trimmed as they came. */
  get list(): ReceivedCommand[] {
    const records = this.records;
    if (this.waiting === 0) return records;
    // What pushing the waiting messages one by one (trimming past LOG_MAX) would have dropped from the front.
    let length = records.length;
    let rest = this.waiting;
    let dropped = 0;
    while (length + rest > LOG_MAX) {
      const pushes = Math.max(1, LOG_MAX + 1 - length);
      rest -= pushes;
      length += pushes - LOG_DROP;
      dropped += LOG_DROP;
    }
    let skip = 0;
    if (dropped <= records.length) records.splice(0, dropped);
    else {
      skip = dropped - records.length;
      records.length = 0;
    }
    // Waiting message i (0 = oldest) is held in the ring from index waiting − held on.
    const firstHeld = this.waiting - this.held;
    for (let i = Math.max(skip, firstHeld); i < this.waiting; i++) {
      const slot = (this.head + i - firstHeld) % this.capacity;
      const start = slot * SLOT;
      const end = start + this.lengths[slot];
      const request = readCameraRequest(this.bytes, start, end);
      const preset = this.hasPreset[slot] === 1 ? this.presets[slot] : undefined;
      records.push(record(this.times[slot], request, this.peerNames[this.peers[slot]], hexRange(this.bytes, start, end), preset));
    }
    this.head = 0;
    this.held = 0;
    this.waiting = 0;
    return records;
  }

  private peerId(peer: string): number {
    let id = this.peerIds.get(peer);
    if (id === undefined) {
      id = this.peerNames.length;
      this.peerNames.push(peer);
      this.peerIds.set(peer, id);
    }
    return id;
  }

  /** Doubles the ring (up to LOG_MAX), keeping the held messages in order from slot 0. */
  private grow(): void {
    const capacity = Math.min(LOG_MAX, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const bytes = new Uint8Array(capacity * SLOT);
    const lengths = new Uint8Array(capacity);
    const times = new Float64Array(capacity);
    const peers = new Int32Array(capacity);
    const presets = new Float64Array(capacity);
    const hasPreset = new Uint8Array(capacity);
    for (let i = 0; i < this.held; i++) {
      const from = (this.head + i) % this.capacity;
      bytes.set(this.bytes.subarray(from * SLOT, from * SLOT + this.lengths[from]), i * SLOT);
      lengths[i] = this.lengths[from];
      times[i] = this.times[from];
      peers[i] = this.peers[from];
      presets[i] = this.presets[from];
      hasPreset[i] = this.hasPreset[from];
    }
    this.bytes = bytes;
    this.lengths = lengths;
    this.times = times;
    this.peers = peers;
    this.presets = presets;
    this.hasPreset = hasPreset;
    this.capacity = capacity;
    this.head = 0;
  }
}
