// Taiden HCS-3600/4100 camera output (RS-232 9600 8N1): `E5 idH idL` asks
// for microphone id's camera preposition, `E5 00 00` for the panorama.
import type { MicParser, MicUpdate } from './protocol.js';

export const TAIDEN_POSITION = 0xe5;
/**
 * "Start video track" (HCS-3600 manual ch. 8.1 item 3a; taiden.com solution2 §4 (1)), sent on every
 * connect: the unit does not answer it, and the manual does not say whether the E5 output needs it,
 * so we send it rather than depend on the unit's tracking having been started by someone else.
 */
export const TAIDEN_START_TRACKING = Buffer.from([0xe3, 0xe4, 0x00]);

export class TaidenParser implements MicParser {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): MicUpdate[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: MicUpdate[] = [];
    let i = 0;
    while (i < this.buf.length) {
      if (this.buf[i] !== TAIDEN_POSITION) {
        // Other unit traffic (E6 status stream, replies) is not needed to steer cameras.
        i++;
        continue;
      }
      if (i + 3 > this.buf.length) break;
      const id = (this.buf[i + 1] << 8) | this.buf[i + 2];
      out.push(id === 0 ? { kind: 'all_off', why: 'panorama (E5 00 00)' } : { kind: 'position', channel: id });
      i += 3;
    }
    this.buf = this.buf.subarray(i);
    return out;
  }
  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

export function taidenPosition(id: number): Buffer {
  return Buffer.from([TAIDEN_POSITION, (id >> 8) & 0xff, id & 0xff]);
}
