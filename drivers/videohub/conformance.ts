// Conformance table for the Blackmagic Videohub Ethernet Protocol (TCP 9990),
// written from Blackmagic's manuals only (never from our driver or simulator).
// Blocks: an ALL-CAPS header with a colon, lines, a blank line; ports are
// 0-based on the wire.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const VH = 'Blackmagic Videohub manual, Developer Information "Blackmagic Videohub Ethernet Protocol v2.3"';
const P75 = `${VH} (easymanua.ls micro-videohub p.75; Universal Videohub p.94-95)`;
const P76 = `${VH} (easymanua.ls videohub p.76)`;

export const videohubTable = {
  preamble: {
    id: 'preamble',
    kind: 'banner',
    cite: `${P75}: "The first block sent by the Videohub Server is always the protocol preamble"`,
    reply: 'PROTOCOL PREAMBLE:\nVersion: 2.3\n\n',
  },
  'device-present': {
    id: 'device-present',
    kind: 'banner',
    cite: `${P75}: Device Information block of a connected router`,
    reply:
      'VIDEOHUB DEVICE:\nDevice present: true\nModel name: Blackmagic Smart Videohub\nVideo inputs: 4\nVideo processing units: 0\nVideo outputs: 4\nVideo monitoring outputs: 0\nSerial ports: 0\n\n',
  },
  'device-absent': {
    id: 'device-absent',
    kind: 'banner',
    cite: `${P75}: "If the Videohub Server has no device connected, the block will simply be: Device present: false … no further information will be sent"`,
    reply: 'VIDEOHUB DEVICE:\nDevice present: false\n\n',
  },
  'device-needs-update': {
    id: 'device-needs-update',
    kind: 'banner',
    cite: `${P75}: "a device is present, but has an incompatible firmware … Device present: needs_update"`,
    reply: 'VIDEOHUB DEVICE:\nDevice present: needs_update\n\n',
  },
  'input-labels': {
    id: 'input-labels',
    kind: 'banner',
    cite: `${VH} "Initial Status Dump" (Universal Videohub p.95): INPUT LABELS, one "port label" line each`,
    reply: 'INPUT LABELS:\n0 Camera\n1 Lectern PC\n2 Input 3\n3 Input 4\n\n',
  },
  'input-labels-utf8': {
    id: 'input-labels-utf8',
    kind: 'banner',
    cite: `${VH} "Initial Status Dump": labels are free text; Videohub Setup stores them as UTF-8 (issue 17 §5, "Sala Süd")`,
    reply: 'INPUT LABELS:\n0 Sala Süd\n1 Lectern PC\n2 Input 3\n3 Input 4\n\n',
  },
  'output-labels': {
    id: 'output-labels',
    kind: 'banner',
    cite: `${VH} "Initial Status Dump": OUTPUT LABELS`,
    reply: 'OUTPUT LABELS:\n0 Projector\n1 Recorder\n2 Output 3\n3 Output 4\n\n',
  },
  locks: {
    id: 'locks',
    kind: 'banner',
    cite: `${P76}: lock states O (owned by this client), L (locked by another), U (unlocked)`,
    reply: 'VIDEO OUTPUT LOCKS:\n0 U\n1 U\n2 U\n3 U\n\n',
  },
  routing: {
    id: 'routing',
    kind: 'banner',
    cite: `${VH} "Initial Status Dump": VIDEO OUTPUT ROUTING, "output input" per line`,
    reply: 'VIDEO OUTPUT ROUTING:\n0 0\n1 1\n2 2\n3 3\n\n',
  },
  'end-prelude': {
    id: 'end-prelude',
    kind: 'banner',
    cite: 'Videohub protocol 2.7+ ends the dump with END PRELUDE (Blackmagic Videohub Ethernet Protocol; bitfocus/companion-module-bmd-videohub src/main.ts)',
    reply: 'END PRELUDE:\n\n',
  },
  'route-ack': {
    id: 'route-ack',
    kind: 'reply',
    cite: `${P76}: a request is answered ACK, then the status update block with the change`,
    send: 'VIDEO OUTPUT ROUTING:\n3 2\n\n',
    reply: 'ACK\n\nVIDEO OUTPUT ROUTING:\n3 2\n\n',
  },
  'route-nak': {
    id: 'route-nak',
    kind: 'error',
    cite: `${VH} "Requesting Changes": a request the server cannot perform is answered NAK`,
    send: 'VIDEO OUTPUT ROUTING:\n3 9\n\n',
    reply: 'NAK\n\n',
  },
  'label-set': {
    id: 'label-set',
    kind: 'reply',
    cite: `${P76}: "OUTPUT LABELS: 6 new output label seven" → ACK, then the block`,
    send: 'OUTPUT LABELS:\n1 Überlauf\n\n',
    reply: 'ACK\n\nOUTPUT LABELS:\n1 Überlauf\n\n',
  },
  'lock-force': {
    id: 'lock-force',
    kind: 'reply',
    cite: `${P76}: force-unlock "7 F" → ACK, then "7 U"`,
    send: 'VIDEO OUTPUT LOCKS:\n3 F\n\n',
    reply: 'ACK\n\nVIDEO OUTPUT LOCKS:\n3 U\n\n',
  },
  'dump-request': {
    id: 'dump-request',
    kind: 'reply',
    cite: `${VH} "Requesting a Status Dump": a header and a blank line → ACK and the block`,
    send: 'OUTPUT LABELS:\n\n',
    reply: 'ACK\n\nOUTPUT LABELS:\n',
  },
  ping: {
    id: 'ping',
    kind: 'keepalive',
    cite: `${VH} "Checking the Connection": PING: and a blank line → ACK`,
    send: 'PING:\n\n',
    reply: 'ACK\n\n',
  },
  'routing-update': {
    id: 'routing-update',
    kind: 'unsolicited',
    cite: `${VH} "Status updates": after a change by another client only the changed items are sent`,
    reply: 'VIDEO OUTPUT ROUTING:\n0 3\n\n',
  },
  'attach-resend': {
    id: 'attach-resend',
    kind: 'unsolicited',
    cite: `${P75}: "If the Videohub Server detects a new Videohub attached, it will resend all blocks except the protocol preamble"`,
    reply:
      'VIDEOHUB DEVICE:\nDevice present: true\nModel name: Blackmagic Smart Videohub\nVideo inputs: 4\nVideo processing units: 0\nVideo outputs: 4\nVideo monitoring outputs: 0\nSerial ports: 0\n\nINPUT LABELS:\n0 Camera\n1 Lectern PC\n2 Input 3\n3 Input 4\n\nOUTPUT LABELS:\n0 Projector\n1 Recorder\n2 Output 3\n3 Output 4\n\nVIDEO OUTPUT LOCKS:\n0 U\n1 U\n2 U\n3 U\n\nVIDEO OUTPUT ROUTING:\n0 0\n1 1\n2 2\n3 3\n\nEND PRELUDE:\n\n',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
