// Conformance table for VISCA (Sony VISCA over IP, raw VISCA over TCP/UDP,
// VISCA over RS-232), written from the vendors' manuals only (never from our
// driver or simulator). Messages are hex text; several messages in one row
// are separated by "\n". Sony rows are "<payload type>|<payload>": the camera
// copies the request's sequence number into its reply.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const SONY_IP =
  'Sony SRG-300H technical manual, "VISCA over IP" (manualshive p.31-32: payload types, control command/reply, delivery confirmation)';
const SONY_MSG = 'Sony BRC-X400 VISCA command list (camera-issued messages) and EVI-H100S command list (manualsbrain p.29)';
const PTZ = 'PTZOptics 12X-SDI manual p.54 (raw VISCA on TCP 5678 / UDP 1259, same bytes as serial)';
const SERIAL = 'Sony FCB-EV7500 technical manual p.30 (AddressSet and IF_Clear first) and EVI-H100S p.29';

export const viscaTable = {
  // ---- Sony VISCA over IP (UDP 52381) ----
  'sony-reset': {
    id: 'sony-reset',
    kind: 'handshake',
    cite: `${SONY_IP}: control command 02 00 payload 01 = RESET; the control reply 02 01 payload 01 is its ACK`,
    send: '02 00|01',
    reply: '02 01|01',
  },
  'sony-command': {
    id: 'sony-command',
    kind: 'reply',
    cite: `${SONY_MSG}: ACK y0 4z FF, then Completion y0 5z FF; over IP as VISCA reply 01 11 (${SONY_IP})`,
    send: '01 00|81 01 04 3F 02 00 FF',
    reply: '01 11|90 41 FF\n01 11|90 51 FF',
  },
  'sony-inquiry': {
    id: 'sony-inquiry',
    kind: 'reply',
    cite: `${SONY_MSG}: power inquiry 8x 09 04 00 FF → y0 50 02 FF (on), no ACK; over IP as VISCA inquiry 01 10 / reply 01 11`,
    send: '01 10|81 09 04 00 FF',
    reply: '01 11|90 50 02 FF',
  },
  'sony-error-sequence': {
    id: 'sony-error-sequence',
    kind: 'error',
    cite: `${SONY_IP}: ERROR 0F 01 "abnormal sequence number", sent as a control command (02 00); the resend of a message whose ACK/Completion was lost gets it (the command already ran)`,
    send: '01 00|81 01 04 3F 02 00 FF',
    reply: '02 00|0F 01',
  },
  'sony-error-message': {
    id: 'sony-error-message',
    kind: 'error',
    cite: `${SONY_IP}: ERROR 0F 02 "abnormal message" (an unknown payload type), sent as a control command (02 00)`,
    send: '01 30|81 09 04 00 FF',
    reply: '02 00|0F 02',
  },
  'sony-error-sequence-on-control-reply': {
    id: 'sony-error-sequence-on-control-reply',
    kind: 'error',
    cite: 'Not in the Sony manuals: some cameras and older simulators send the ERROR as a control reply (02 01); issue 17 "Build": tolerate 0x0201',
    send: '01 00|81 01 04 3F 02 00 FF',
    reply: '02 01|0F 01',
  },
  'sony-syntax-error': {
    id: 'sony-syntax-error',
    kind: 'error',
    cite: `${SONY_MSG}: syntax error y0 60 02 FF (bad format or illegal parameter)`,
    send: '01 00|81 01 04 3F 02 7E FF',
    reply: '01 11|90 60 02 FF',
  },
  'sony-buffer-full': {
    id: 'sony-buffer-full',
    kind: 'error',
    cite: `${SONY_MSG}: command buffer full y0 60 03 FF (both sockets busy)`,
    send: '01 00|81 01 06 04 FF',
    reply: '01 11|90 60 03 FF',
  },
  'sony-not-executable': {
    id: 'sony-not-executable',
    kind: 'error',
    cite: `${SONY_MSG}: command not executable y0 6z 41 FF (e.g. a move in standby)`,
    send: '01 00|81 01 04 3F 02 00 FF',
    reply: '01 11|90 61 41 FF',
  },
  'sony-cancel': {
    id: 'sony-cancel',
    kind: 'reply',
    cite: `${SONY_MSG}: cancel 8x 2z FF → y0 6z 04 FF "command canceled" (no Completion follows); y0 6z 05 FF "no socket" when nothing runs there`,
    send: '01 00|81 21 FF',
    reply: '01 11|90 61 04 FF',
  },
  'network-change': {
    id: 'network-change',
    kind: 'unsolicited',
    cite: `${SONY_MSG}: network change z0 38 FF on power-up (some IP cameras send it too: bitfocus/companion-module-ptzoptics-visca src/visca/__tests__ inject A0 38 FF)`,
    reply: '90 38 FF',
  },
  // ---- raw VISCA over TCP 5678 / UDP 1259 ----
  'raw-inquiry': {
    id: 'raw-inquiry',
    kind: 'reply',
    cite: `${PTZ}; ${SONY_MSG}: power inquiry → y0 50 02 FF`,
    send: '81 09 04 00 FF',
    reply: '90 50 02 FF',
  },
  'raw-command': {
    id: 'raw-command',
    kind: 'reply',
    cite: `${PTZ}; ${SONY_MSG}: ACK then Completion`,
    send: '81 01 04 3F 02 00 FF',
    reply: '90 41 FF\n90 51 FF',
  },
  'raw-position-inquiry': {
    id: 'raw-position-inquiry',
    kind: 'reply',
    cite: `${SONY_MSG}: pan-tilt position inquiry 8x 09 06 12 FF → y0 50 0p 0p 0p 0p 0t 0t 0t 0t FF`,
    send: '81 09 06 12 FF',
    reply: '90 50 00 00 00 00 00 00 00 00 FF',
  },
  'raw-zoom-inquiry': {
    id: 'raw-zoom-inquiry',
    kind: 'reply',
    cite: `${SONY_MSG}: zoom position inquiry 8x 09 04 47 FF → y0 50 0p 0q 0r 0s FF`,
    send: '81 09 04 47 FF',
    reply: '90 50 00 00 00 00 FF',
  },
  'raw-syntax-error': {
    id: 'raw-syntax-error',
    kind: 'error',
    cite: `${SONY_MSG}: syntax error y0 60 02 FF (a command the camera does not know)`,
    send: '81 01 7E 7E FF',
    reply: '90 60 02 FF',
  },
  // ---- VISCA over RS-232 ----
  'serial-address-set': {
    id: 'serial-address-set',
    kind: 'handshake',
    cite: `${SERIAL}: AddressSet broadcast 88 30 01 FF → 88 30 0w FF, w = last address + 1 (one camera: 02)`,
    send: '88 30 01 FF',
    reply: '88 30 02 FF',
  },
  'serial-if-clear-broadcast': {
    id: 'serial-if-clear-broadcast',
    kind: 'handshake',
    cite: `${SERIAL}: IF_Clear broadcast 88 01 00 01 FF is passed round the chain and comes back unchanged`,
    send: '88 01 00 01 FF',
    reply: '88 01 00 01 FF',
  },
  'serial-if-clear': {
    id: 'serial-if-clear',
    kind: 'reply',
    cite: `${SERIAL}: IF_Clear 8x 01 00 01 FF → z0 50 FF (no ACK)`,
    send: '81 01 00 01 FF',
    reply: '90 50 FF',
  },
} satisfies ConformanceTable;

/**
 * Driver cases failing today (issue 17 §1 and §4); the runner asserts they
 * still fail. Remove an entry when its driver fix lands. Empty: the visca
 * engineer's fix (errors on 02 00, delivery confirmation) is on main.
 */
export const knownDriverGaps: Record<string, KnownGap> = {};
