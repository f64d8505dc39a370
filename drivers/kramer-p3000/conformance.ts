// Conformance table for Kramer Protocol 3000, written from Kramer's manuals
// only (never from our driver or simulator). Each row is one thing a real
// matrix sends, with the page it comes from. Wire text: host lines end in CR,
// device lines in CR LF (VS-88HN user manual §11.1, Protocol 3000 syntax).
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const VS62HA = 'Kramer VS-62HA user manual, Protocol 3000 commands, ROUTE and VID (manualshive p.68)';
const VM218 = 'Kramer VM-218DT user manual, Protocol 3000 "Result and Error Codes" (easymanua.ls p.49)';
const PL50 = 'Kramer PL-50 user manual §10.4 "Result and Error Codes" (azmanual p.44)';
const VP16 = 'Kramer VP-16x18AK user manual, Table 17 "Instruction codes for Protocol 3000" (azmanual p.49)';

export const kramerTable = {
  'handshake-ok': {
    id: 'handshake-ok',
    kind: 'handshake',
    cite: 'Kramer VS-88HN user manual §11 Protocol 3000 (handshake #, device format ~nn@); KIT-400R Protocol 3000 commands (handshake)',
    send: '#\r',
    reply: '~01@ OK\r\n',
  },
  'handshake-ok-lower': {
    id: 'handshake-ok-lower',
    kind: 'handshake',
    cite: 'Kramer KIT-400R "Protocol 3000 Commands": # → FEEDBACK ~nn@ok<CR><LF> (manualmachine)',
    send: '#\r',
    reply: '~01@ok\r\n',
  },
  'handshake-legacy': {
    id: 'handshake-legacy',
    kind: 'handshake',
    cite: `${VP16}: Protocol Handshaking #CR → ~OKCRLF`,
    send: '#\r',
    reply: '~OK\r\n',
  },
  'vid-set-ok': {
    id: 'vid-set-ok',
    kind: 'reply',
    cite: `${PL50}: a command that ran answers "COMMAND PARAMETERS OK"; Kramer VS-44DT P3000 VID (easymanua.ls p.65) [S17]`,
    send: '#VID 2>3\r',
    reply: '~01@VID 2>3 OK\r\n',
  },
  'vid-set-bare': {
    id: 'vid-set-bare',
    kind: 'reply',
    cite: `${VS62HA}: "Set: ~nn@VID in>out" (no OK)`,
    send: '#VID 2>3\r',
    reply: '~01@VID 2>3\r\n',
  },
  'vid-query': {
    id: 'vid-query',
    kind: 'reply',
    cite: `${VS62HA}: "Get: #VID? out" → "~nn@VID in>out"`,
    send: '#VID? 3\r',
    reply: '~01@VID 2>3\r\n',
  },
  'route-set-bare': {
    id: 'route-set-bare',
    kind: 'reply',
    cite: `${VS62HA}: "#ROUTE layer,dest,src" → "~nn@ROUTE layer,dest,src" (no OK); layers video=1, audio=2`,
    send: '#ROUTE 1,3,2\r',
    reply: '~01@ROUTE 1,3,2\r\n',
  },
  'route-query': {
    id: 'route-query',
    kind: 'reply',
    cite: `${VS62HA}: "Get: #ROUTE? layer,dest" → "~nn@ROUTE layer,dest,src"`,
    send: '#ROUTE? 1,3\r',
    reply: '~01@ROUTE 1,3,2\r\n',
  },
  'err-command': {
    id: 'err-command',
    kind: 'error',
    cite: `${VM218}: "~NN@CMD ERR XXX<CR><LF> – for specific command"; 003 = parameter out of range`,
    send: '#VID 9>3\r',
    reply: '~01@VID ERR 003\r\n',
  },
  'err-general': {
    id: 'err-general',
    kind: 'error',
    cite: `${VM218}: "~NN@ERR XXX<CR><LF> – when general error, no specific command"; 002 = command not available`,
    send: '#XYZZY\r',
    reply: '~01@ERR 002\r\n',
  },
  'err-legacy': {
    id: 'err-legacy',
    kind: 'error',
    cite: `${PL50}: result codes ERR001 syntax, ERR002 not available, ERR003 out of range, ERR004 unauthorized, in place of OK in the long response`,
    send: '#VID 9>3\r',
    reply: '~01@VID 9>3 ERR003\r\n',
  },
  'start-message': {
    id: 'start-message',
    kind: 'unsolicited',
    cite: `${VP16}: device initiated "Start message: Kramer Electronics LTD., Device Model Version Software Version"`,
    reply: 'Kramer Electronics LTD., VS-44DT Version 1.20\r\n',
  },
  'switch-action': {
    id: 'switch-action',
    kind: 'unsolicited',
    cite: `${VP16}: device initiated "Switcher actions … Video channel has switched: VID IN>OUT"`,
    reply: '~01@VID 4>1\r\n',
  },
} satisfies ConformanceTable;

/**
 * Driver cases that fail today (issue 17's findings; the lifecycle engineer
 * fixes the drivers). The runner asserts they still fail: remove an entry
 * when its driver is fixed.
 */
export const knownDriverGaps: Record<string, KnownGap> = {};
