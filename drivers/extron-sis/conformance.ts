// Conformance table for Extron SIS (Telnet 23 / RS-232), written from
// Extron's manuals only (never from our driver or simulator). Commands need
// no terminator; every response ends in CR LF; "Esc" is 0x1B.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const DXP = "Extron DXP DVI Pro/HDMI user guide, SIS programmer's guide (manualsonline p.56; 68137050 rev C p.28)";
const CP = 'Extron CrossPoint 300 user guide, SIS command/response tables (manualsonline 816.html p.75)';
const MTPX = 'Extron MTPX Plus user guide, error responses (manualsdump p.101)';
const M12800 = 'Extron Matrix 12800 user guide p.73 (three-digit responses)';
const CP450 =
  'Extron CrossPoint 450 MAV Plus user guide, "Switcher-initiated Messages" (kitchen.manualsonline.com 450.html p.98)';
const MGP = 'Extron MGP Pro user guide p.83 (verbose mode, Esc n CV)';

export const extronTable = {
  banner: {
    id: 'banner',
    kind: 'banner',
    cite: `${DXP}: on connect the copyright message "(c) Copyright 20nn, Extron Electronics, <model>, Vx.xx, 60-nnnn-nn" and the date`,
    reply: '(c) Copyright 2008, Extron Electronics, DXP 44 HDMI, V1.05, 60-1080-01\r\nSun, 22 Nov 2026 12:00:00\r\n',
  },
  'banner-serial': {
    id: 'banner-serial',
    kind: 'banner',
    cite: `${CP450}: the copyright message at power-on; "{day,date,time} are reported only if the connection is via the LAN port", so RS-232 gets the copyright line alone`,
    reply: '(c) Copyright 2026, Extron Electronics, DXP 88 HDMI, V1.05, 60-1080-01\r\n',
  },
  'password-prompt': {
    id: 'password-prompt',
    kind: 'handshake',
    cite: `${DXP}: with a password set, "Password:" follows the banner`,
    reply: '\r\nPassword:',
  },
  'login-administrator': {
    id: 'login-administrator',
    kind: 'handshake',
    cite: `${DXP}: the right password → "Login Administrator" (or "Login User")`,
    send: 'extron-pw\r',
    reply: '\r\nLogin Administrator\r\n',
  },
  'verbose-3': {
    id: 'verbose-3',
    kind: 'handshake',
    cite: `${MGP}: Esc 3CV → Vrb3 (verbose + tagged); Telnet defaults to 0 and gets no change notices`,
    send: '\x1b3CV',
    reply: 'Vrb3\r\n',
  },
  'tie-av': {
    id: 'tie-av',
    kind: 'reply',
    cite: `${CP}: 1*3! → Out03 In01 All`,
    send: '1*3!',
    reply: 'Out03 In01 All\r\n',
  },
  'tie-video': {
    id: 'tie-video',
    kind: 'reply',
    cite: `${CP}: 7*5% (or &) → Out05 In07 Vid`,
    send: '7*4%',
    reply: 'Out04 In07 Vid\r\n',
  },
  'tie-video-rgb': {
    id: 'tie-video-rgb',
    kind: 'reply',
    cite: `${CP}: RGB switchers answer the video tie with "RGB" in place of "Vid"`,
    send: '2*4%',
    reply: 'Out04 In02 RGB\r\n',
  },
  'tie-audio': {
    id: 'tie-audio',
    kind: 'reply',
    cite: `${CP}: 12*14$ → Out14 In12 Aud`,
    send: '3*2$',
    reply: 'Out02 In03 Aud\r\n',
  },
  'tie-av-three-digits': {
    id: 'tie-av-three-digits',
    kind: 'reply',
    cite: `${M12800}: responses pad numbers to three digits (Out003 In001 All)`,
    send: '1*3!',
    reply: 'Out003 In001 All\r\n',
  },
  'read-tie-tagged': {
    id: 'read-tie-tagged',
    kind: 'reply',
    cite: `${DXP}: 5% reads the video tie of output 5: "07", or tagged in verbose 2/3 "Out05 In07 Vid"`,
    send: '3%',
    reply: 'Out03 In01 Vid\r\n',
  },
  'read-tie-plain': {
    id: 'read-tie-plain',
    kind: 'reply',
    cite: `${DXP}: in verbose 0/1 a tie read answers the bare input number`,
    send: '3%',
    reply: '01\r\n',
  },
  'read-av-breakaway': {
    id: 'read-av-breakaway',
    kind: 'error',
    cite: `${DXP}: n! on a breakaway output (audio ≠ video) → E14`,
    send: '4!',
    reply: 'E14\r\n',
  },
  'all-outputs': {
    id: 'all-outputs',
    kind: 'reply',
    cite: `${CP}: 5*! ties input 5 to all outputs → In05 All`,
    send: '2*!',
    reply: 'In02 All\r\n',
  },
  'quick-tie': {
    id: 'quick-tie',
    kind: 'reply',
    cite: `${CP}: Esc+Q3*4!3*5%3*6$ CR (several ties at once) → Qik`,
    send: '\x1b+Q1*2!1*3%\r',
    reply: 'Qik\r\n',
  },
  'preset-recall': {
    id: 'preset-recall',
    kind: 'reply',
    cite: `${DXP}: n. recalls global preset n → Rprnn`,
    send: '5.',
    reply: 'Rpr05\r\n',
  },
  'preset-save': {
    id: 'preset-save',
    kind: 'reply',
    cite: `${DXP}: n, saves global preset n → Sprnn`,
    send: '5,',
    reply: 'Spr05\r\n',
  },
  info: {
    id: 'info',
    kind: 'reply',
    cite: `${DXP}: I → V8X4 A8X4 (matrix size)`,
    send: 'I',
    reply: 'V4X4 A4X4\r\n',
  },
  firmware: {
    id: 'firmware',
    kind: 'keepalive',
    cite: `${DXP}: Q → firmware version; Extron's recommended keep-alive (Telnet times out after 300 s idle)`,
    send: 'Q',
    reply: '1.05\r\n',
  },
  'part-number': {
    id: 'part-number',
    kind: 'reply',
    cite: `${DXP}: N → part number`,
    send: 'N',
    reply: '60-1080-01\r\n',
  },
  'e01-invalid-input': {
    id: 'e01-invalid-input',
    kind: 'error',
    cite: `${MTPX}: E01 invalid input number`,
    send: '9*3!',
    reply: 'E01\r\n',
  },
  'e10-invalid-command': {
    id: 'e10-invalid-command',
    kind: 'error',
    cite: `${MTPX}: E10 invalid command`,
    send: 'X',
    reply: 'E10\r\n',
  },
  'e11-invalid-preset': {
    id: 'e11-invalid-preset',
    kind: 'error',
    cite: `${MTPX}: E11 invalid preset number`,
    send: '99.',
    reply: 'E11\r\n',
  },
  'e12-invalid-output': {
    id: 'e12-invalid-output',
    kind: 'error',
    cite: `${MTPX}: E12 invalid output number`,
    send: '1*9!',
    reply: 'E12\r\n',
  },
  'e22-busy': {
    id: 'e22-busy',
    kind: 'error',
    cite: `${MTPX}: E22 busy`,
    send: '1*3!',
    reply: 'E22\r\n',
  },
  qik: {
    id: 'qik',
    kind: 'unsolicited',
    cite: `${DXP}: after a front-panel switch verbose sessions (1/3) get "Qik", which does not say what changed`,
    reply: 'Qik\r\n',
  },
  'rpr-unsolicited': {
    id: 'rpr-unsolicited',
    kind: 'unsolicited',
    cite: `${DXP}: a front-panel preset recall sends Rprnn to verbose sessions`,
    reply: 'Rpr05\r\n',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
