// Televic Confidea G3 camera output: one UDP datagram of JSON per change,
// `{"UID": 7, "status": 1}`; status 0 off, 1 on, 2 request to speak, 3 prior.
import type { MicParser, MicUpdate } from './protocol.js';

export const CONFIDEA_STATUS = { OFF: 0, ON: 1, REQUEST: 2, PRIOR: 3 } as const;

export function parseConfidea(datagram: Buffer): MicUpdate {
  const raw = datagram.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { kind: 'bad_frame', reason: 'not JSON', raw: raw.slice(0, 200) };
  }
  if (typeof v !== 'object' || v === null) return { kind: 'bad_frame', reason: 'not a JSON object', raw: raw.slice(0, 200) };
  const { UID, status } = v as { UID?: unknown; status?: unknown };
  if (!Number.isInteger(UID) || (UID as number) < 0 || !Number.isInteger(status)) {
    return { kind: 'bad_frame', reason: 'needs integer "UID" and "status"', raw: raw.slice(0, 200) };
  }
  const channel = UID as number;
  switch (status) {
    case CONFIDEA_STATUS.OFF:
    case CONFIDEA_STATUS.REQUEST:
      // A request to speak is not speech: the camera stays where it is.
      return { kind: 'mic', channel, on: false };
    case CONFIDEA_STATUS.ON:
      return { kind: 'mic', channel, on: true };
    case CONFIDEA_STATUS.PRIOR:
      // "Prior" is the priority (chairman) microphone speaking.
      return { kind: 'mic', channel, on: true, chairman: true };
    default:
      return { kind: 'bad_frame', reason: `unknown status ${String(status)}`, raw: raw.slice(0, 200) };
  }
}

/** Each chunk handed in is one datagram (UDP keeps message boundaries). */
export class ConfideaParser implements MicParser {
  push(chunk: Buffer): MicUpdate[] {
    return [parseConfidea(chunk)];
  }
  reset(): void {}
}

export function confideaDatagram(uid: number, status: number): Buffer {
  return Buffer.from(JSON.stringify({ UID: uid, status }));
}
