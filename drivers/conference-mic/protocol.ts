// Delegate (conference) systems: what their camera-control outputs tell us,
// normalised. Pure: bytes in, updates out, no I/O. One parser per protocol.
export type MicUpdate =
  /** One microphone switched on or off. */
  | { kind: 'mic'; channel: number; on: boolean; chairman?: boolean }
  /** The unit asks for this microphone's camera position (Taiden `E5 idH idL`): it is the one to show. */
  | { kind: 'position'; channel: number }
  /** Every microphone is off / the unit asks for the panorama shot. */
  | { kind: 'all_off'; why: string }
  /** The complete list of microphones that are on (SDC 8000 `%S`). */
  | { kind: 'sync'; active: number[] }
  /** Something valid we do not act on (e.g. SDC `%1R` "first mic on"). */
  | { kind: 'info'; text: string }
  /** A frame that failed validation (bad checksum, bad JSON): logged and dropped. */
  | { kind: 'bad_frame'; reason: string; raw: string };

export interface MicParser {
  push(chunk: Buffer): MicUpdate[];
  reset(): void;
}

export const PROTOCOLS = ['taiden', 'sdc8000', 'confidea'] as const;
export type ConferenceProtocol = (typeof PROTOCOLS)[number];

export function hex(b: Buffer | string): string {
  return (typeof b === 'string' ? Buffer.from(b, 'latin1') : b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
