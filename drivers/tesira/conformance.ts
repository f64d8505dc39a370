// Conformance table for the Biamp Tesira Text Protocol (Telnet 23 / RS-232),
// written from Biamp's TTP help pages only (never from our driver or
// simulator). Commands end in LF; the server answers in lines ending CR LF.
// Telnet bytes are written as latin1 text (IAC = \xff).
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TELNET =
  'Biamp Tesira help, Tesira Text Protocol "Telnet" (tesira-help.biamp.com/System_Control/Tesira_Text_Protocol/Telnet.htm)';
const SUBS = 'Biamp Tesira help, TTP "Subscriptions" (…/Tesira_Text_Protocol/Subscriptions.htm)';
const RESP = 'Biamp Tesira help, TTP "Responses" (…/Tesira_Text_Protocol/REsponses.htm)';
const TTP =
  'Biamp support, "Tesira Text Protocol" (support.biamp.com/Tesira/Control/Tesira_Text_Protocol): syntax InstanceTag command attribute [index] [value]';

export const tesiraTable = {
  negotiation: {
    id: 'negotiation',
    kind: 'handshake',
    cite: `${TELNET}: the server opens with option negotiation; "If the Control System does not respond … the session will not go ahead"; reject every option`,
    reply: '\xff\xfd\x18\xff\xfb\x01\xff\xfd\x1f',
  },
  refusal: {
    id: 'refusal',
    kind: 'handshake',
    cite: `${TELNET}: the simplest way is to respond with a rejection (WONT to DO, DONT to WILL)`,
    send: '\xff\xfc\x18\xff\xfe\x01\xff\xfc\x1f',
    reply: 'Welcome to the Tesira Text Protocol Server...\r\n',
  },
  banner: {
    id: 'banner',
    kind: 'banner',
    cite: `${TELNET}: once the options are settled the server greets with its welcome line`,
    reply: 'Welcome to the Tesira Text Protocol Server...\r\n',
  },
  set: {
    id: 'set',
    kind: 'reply',
    cite: `${TTP}: Level1 set level 1 -10 → +OK`,
    send: 'Level1 set level 1 -10\n',
    reply: '+OK\r\n',
  },
  'get-verbose': {
    id: 'get-verbose',
    kind: 'reply',
    cite: `${RESP}: in verbose mode (the default) values come with their key: +OK "value":-10.000000`,
    send: 'Level1 get level 1\n',
    reply: '+OK "value":-10.000000\r\n',
  },
  'get-terse': {
    id: 'get-terse',
    kind: 'reply',
    cite: `${RESP}: after SESSION set verbose false values come without keys`,
    send: 'Level1 get level 1\n',
    reply: '+OK -10.000000\r\n',
  },
  'session-verbose': {
    id: 'session-verbose',
    kind: 'reply',
    cite: `${RESP}: SESSION set verbose true|false → +OK`,
    send: 'SESSION set verbose true\n',
    reply: '+OK\r\n',
  },
  toggle: {
    id: 'toggle',
    kind: 'reply',
    cite: `${TTP}: Mute1 toggle mute 1 → +OK`,
    send: 'Mute1 toggle mute 1\n',
    reply: '+OK\r\n',
  },
  'recall-preset': {
    id: 'recall-preset',
    kind: 'reply',
    cite: `${TTP}: DEVICE recallPreset 1001 → +OK`,
    send: 'DEVICE recallPreset 1001\n',
    reply: '+OK\r\n',
  },
  subscribe: {
    id: 'subscribe',
    kind: 'reply',
    cite: `${SUBS}: Level1 subscribe level 1 MyLabel 500 → the current value published first, then +OK`,
    send: 'Level1 subscribe level 1 MyLabel 500\n',
    reply: '! "publishToken":"MyLabel" "value":-100.000000\r\n+OK\r\n',
  },
  publish: {
    id: 'publish',
    kind: 'unsolicited',
    cite: `${SUBS}: later changes are published as ! "publishToken":"MyLabel" "value":-98.100000`,
    reply: '! "publishToken":"MyLabel" "value":-98.100000\r\n',
  },
  'err-address': {
    id: 'err-address',
    kind: 'error',
    cite: `${RESP}: -ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0} (unknown instance tag)`,
    send: 'Ghost set level 1 -10\n',
    reply: '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}\r\n',
  },
  'err-verb': {
    id: 'err-verb',
    kind: 'error',
    cite: `${RESP}: -ERR Parse error at 8: verb was not one of the commands supported by Services`,
    send: 'Level1 sett level 1 -10\n',
    reply: '-ERR Parse error at 8: verb was not one of the commands supported by Services\r\n',
  },
  'err-params': {
    id: 'err-params',
    kind: 'error',
    cite: `${RESP}: -ERR Parse error at 22: not enough parameters supplied`,
    send: 'Level1 set level 1\n',
    reply: '-ERR Parse error at 22: not enough parameters supplied\r\n',
  },
  'cannot-deliver': {
    id: 'cannot-deliver',
    kind: 'error',
    cite: `${RESP} lists -CANNOT_DELIVER and -GENERAL_FAILURE besides -ERR`,
    send: 'Level1 set level 1 -10\n',
    reply: '-CANNOT_DELIVER\r\n',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
