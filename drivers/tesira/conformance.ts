// Conformance table for the Biamp Tesira Text Protocol (Telnet 23 / RS-232),
// written from Biamp's TTP help pages only (never from our driver or
// simulator). Commands end in LF; the server answers in lines ending CR LF (or
// CR NUL). Telnet bytes are written as latin1 text (IAC = \xff). Where a row
// is the page's own example it is copied as printed; otherwise it is an
// instance of the page's form for the design the tests use (Level1: 2
// channels at -10 dB; Mute1: 2 channels; Mixer1: Standard Mixer, inputs at
// 0 dB; MyLevel1: 8 channels; "Room Level": 1 channel).
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const HELP = 'Biamp Tesira help (tesira-help.biamp.com/System_Control/Tesira_Text_Protocol/';
const TELNET = `${HELP}Telnet.htm), "Telnet"`;
const SUPPORT_TELNET =
  'Biamp Cornerstone, "Telnet session negotiation in Tesira" (support.biamp.com/Tesira/Control/Telnet_session_negotiation_in_Tesira)';
const SYNTAX = `${HELP}Syntax.htm), "TTP Syntax"`;
const RESP = `${HELP}REsponses.htm), "TTP Responses", error table`;
const SUBS = `${HELP}Subscriptions.htm), "TTP Subscriptions"`;
const LEVEL = `${HELP}Attribute_tables/Control_Blocks/LevelControl.html), Level block attribute table`;
const MUTE = `${HELP}Attribute_tables/Control_Blocks/MuteControl.html), Mute block attribute table`;
const MIXER = `${HELP}Attribute_tables/Mixer_Blocks/StandardMixer.html), Standard Mixer attribute table`;
const DEVICE = `${HELP}Attribute_tables/Service_Addresses/Device.html), "Device Services"`;

const ROUND_1 = '\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27\xff\xfd\x24';
const ROUND_2 = '\xff\xfb\x03\xff\xfd\x01\xff\xfd\x22\xff\xfd\x1f\xff\xfb\x05\xff\xfd\x21';
const ROUND_3 = '\xff\xfb\x01\xff\xfd\x06\xff\xfd\x00';
const BANNER = '\r\nWelcome to the Tesira Text Protocol Server...\r\n';

/** The refusal of every request in `round` (WONT to DO, DONT to WILL), in order. */
export function refusalsOf(round: string): string {
  return round.replace(/\xff([\xfb\xfd])/g, (_, verb: string) => `\xff${verb === '\xfd' ? '\xfc' : '\xfe'}`);
}

export const tesiraTable = {
  negotiation: {
    id: 'negotiation',
    kind: 'handshake',
    cite: `${TELNET}, "Example Negotiation": the server opens with DO Terminal Type, DO Terminal Speed, DO X Display Location, DO New Environment, DO Environment; "If the Control System does not respond … the session will not go ahead"`,
    reply: ROUND_1,
    note: 'The page gives the order "for illustration"; it may vary with firmware. We group the requests into rounds sent after the previous one was answered.',
  },
  'refusal-round-1': {
    id: 'refusal-round-1',
    kind: 'handshake',
    cite: `${TELNET}, "Negotiation": "If Tesira sends a WILL … respond with DON'T, and if Tesira sends a DO, the response should be WON'T. The Option byte needs to be returned as received"; "Example Negotiation": then WILL Suppress Go Ahead, DO Echo, DO Linemode, DO NAWS, WILL Status, DO Remote Flow Control`,
    send: refusalsOf(ROUND_1),
    reply: ROUND_2,
  },
  'refusal-round-2': {
    id: 'refusal-round-2',
    kind: 'handshake',
    cite: `${TELNET}, "Example Negotiation": then WILL Echo, DO Timing Mark, DO Binary Transmission`,
    send: refusalsOf(ROUND_2),
    reply: ROUND_3,
  },
  'refusal-last': {
    id: 'refusal-last',
    kind: 'handshake',
    cite: `${TELNET}, "Example Negotiation": the last lines are the server's DO 0x0A (no answer shown) and "0x0D 0x0A Welcome to the Tesira Text Protocol Server 0x0D 0x0A"`,
    send: refusalsOf(ROUND_3),
    reply: `\xff\xfd\x0a${BANNER}`,
  },
  banner: {
    id: 'banner',
    kind: 'banner',
    cite: `${TELNET}: "Once all options are negotiated, the Tesira server will send the message 'Welcome to the Tesira Text Protocol Server', preceded and followed by 0x0D and 0x0A"; ${SUPPORT_TELNET}: wait for it before sending any command`,
    reply: BANNER,
    note: 'The Telnet page prints the text without the three dots; the dots are in every published transcript of the line.',
  },
  'late-negotiation': {
    id: 'late-negotiation',
    kind: 'unsolicited',
    cite: `${TELNET}, "Other Considerations": "while in practice most of the negotiations will always take place at the beginning of a session, Telnet allows for them to happen at any point during the session"`,
    reply: '\xff\xfb\x01',
    note: 'The controller refuses it (\\xff\\xfe\\x01) and the session goes on.',
  },
  'cr-nul': {
    id: 'cr-nul',
    kind: 'reply',
    cite: `${TELNET}, "Other Considerations": the server "will usually end any string with … 0x0D … 0x0A, but as per Telnet RFC it may also use 0x0D … followed by 0x00 (NUL)"`,
    send: 'Level1 set level 1 -10\n',
    reply: '+OK\r\0',
  },
  'session-verbose': {
    id: 'session-verbose',
    kind: 'keepalive',
    cite: `${RESP}: "SESSION set verbose true … SESSION set verbose false +OK"; the cheapest command with an answer`,
    send: 'SESSION set verbose true\n',
    reply: '+OK\r\n',
  },
  'session-aliases': {
    id: 'session-aliases',
    kind: 'reply',
    cite: `${SYNTAX}: SESSION get aliases → +OK "list":["123" "AudioMeter1" … "DEVICE" … "Level1" "Output1"] (the instance tags of the design)`,
    send: 'SESSION get aliases\n',
    reply: '+OK "list":["DEVICE" "Level1" "Mute1" "Mixer1" "MyLevel1" "Room Level"]\r\n',
  },
  set: {
    id: 'set',
    kind: 'reply',
    cite: `${SYNTAX}: "A set command will always require a [Value]" … +OK; ${LEVEL}: level get/set/increment/decrement/subscribe/unsubscribe, index channel`,
    send: 'Level1 set level 1 -10\n',
    reply: '+OK\r\n',
  },
  'get-verbose': {
    id: 'get-verbose',
    kind: 'reply',
    cite: `${SYNTAX}: "Level1 get level 1" → +OK "value":0.000000 and "my level 2" get level 1 → +OK "value":-10.000000`,
    send: 'Level1 get level 1\n',
    reply: '+OK "value":-10.000000\r\n',
  },
  'get-terse': {
    id: 'get-terse',
    kind: 'reply',
    cite: `${RESP}: after SESSION set verbose false, "Mute1 get numChannels +OK 2" (values without their keys)`,
    send: 'Level1 get level 1\n',
    reply: '+OK -10.000000\r\n',
  },
  'num-channels': {
    id: 'num-channels',
    kind: 'reply',
    cite: `${RESP}: "Mute1 get numChannels +OK "value":2" (an integer value, no decimals)`,
    send: 'Mute1 get numChannels\n',
    reply: '+OK "value":2\r\n',
  },
  'level-block-mute': {
    id: 'level-block-mute',
    kind: 'reply',
    cite: `${LEVEL}: a Level block has "Mute mute get / set toggle subscribe unsubscribe channel false, true" besides its level`,
    send: 'Level1 get mute 1\n',
    reply: '+OK "value":false\r\n',
  },
  toggle: {
    id: 'toggle',
    kind: 'reply',
    cite: `${MUTE}: mute get / set toggle subscribe unsubscribe, index channel`,
    send: 'Mute1 toggle mute 1\n',
    reply: '+OK\r\n',
  },
  increment: {
    id: 'increment',
    kind: 'reply',
    cite: `${SYNTAX}, "Value": "For an increment it will adjust the value from the current value by the specified amount"; ${LEVEL}`,
    send: 'Level1 increment level 2 3\n',
    reply: '+OK\r\n',
  },
  'mixer-get': {
    id: 'mixer-get',
    kind: 'reply',
    cite: `${RESP}: "Mixer1 get inputLevel 1" → +OK "value":0.000000; ${MIXER}`,
    send: 'Mixer1 get inputLevel 1\n',
    reply: '+OK "value":0.000000\r\n',
  },
  'quoted-tag': {
    id: 'quoted-tag',
    kind: 'reply',
    cite: `${SYNTAX}: "Any Customized Instance tags that contain spaces must be defined within speech marks"`,
    send: '"Room Level" set level 1 -10\n',
    reply: '+OK\r\n',
  },
  'recall-preset': {
    id: 'recall-preset',
    kind: 'reply',
    cite: `${SYNTAX}, "TTP string for Service Codes": DEVICE recallPreset 1001; ${DEVICE}: recallPreset, Preset ID (Integer)`,
    send: 'DEVICE recallPreset 1001\n',
    reply: '+OK\r\n',
  },
  'recall-preset-by-name': {
    id: 'recall-preset-by-name',
    kind: 'reply',
    cite: `${DEVICE}: recallPresetByName, "Preset name (a string)"; ${SUBS}: a value with spaces "can be defined in double quotes"`,
    send: 'DEVICE recallPresetByName "Room Combined"\n',
    reply: '+OK\r\n',
  },
  subscribe: {
    id: 'subscribe',
    kind: 'reply',
    cite: `${SUBS}: "MyLevel1 subscribe level 1 MyLevelName 500"; the first reply is the current value with the label, then +OK`,
    send: 'Level1 subscribe level 1 MyLabel 500\n',
    reply: '! "publishToken":"MyLabel" "value":-10.000000\r\n+OK\r\n',
  },
  'subscribe-one-line': {
    id: 'subscribe-one-line',
    kind: 'reply',
    cite: `${SUBS}: "When the subscription command is first sent the first reply will be: ! "publishToken":"[CustomName]" "value":[Value] +OK" (printed on one line)`,
    send: 'Level1 subscribe level 1 MyLabel 500\n',
    reply: '! "publishToken":"MyLabel" "value":-10.000000 +OK\r\n',
    note: 'The Responses page prints the same reply on two lines; a controller must read both.',
  },
  'subscribe-no-label': {
    id: 'subscribe-no-label',
    kind: 'reply',
    cite: `${SUBS}: "If no identifier is specified then empty double speech-marks ("") are shown in the response"`,
    send: 'Level1 subscribe level 2\n',
    reply: '! "publishToken":"" "value":-10.000000\r\n+OK\r\n',
  },
  publish: {
    id: 'publish',
    kind: 'unsolicited',
    cite: `${SUBS}, "Verbose Example": later changes arrive as ! "publishToken":"MyLevelName" "value":-98.099998 (the device's single-precision value)`,
    reply: '! "publishToken":"MyLabel" "value":-98.099998\r\n',
  },
  'publish-terse': {
    id: 'publish-terse',
    kind: 'unsolicited',
    cite: `${SUBS}, "Non-Verbose" responses: ! "myLevelName" -40.244328 (label and value without keys)`,
    reply: '! "MyLabel" -40.244328\r\n',
  },
  unsubscribe: {
    id: 'unsubscribe',
    kind: 'reply',
    cite: `${SUBS}, "Unsubscribing": the same instance tag, attribute, index and custom label → +OK`,
    send: 'Level1 unsubscribe level 1 MyLabel\n',
    reply: '+OK\r\n',
  },
  'err-address': {
    id: 'err-address',
    kind: 'error',
    cite: `${RESP}: "Session get aliases" → -ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}; ${SYNTAX}: the same for an unknown or unquoted tag`,
    send: 'Ghost set level 1 -10\n',
    reply: '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}\r\n',
  },
  'err-verb': {
    id: 'err-verb',
    kind: 'error',
    cite: `${RESP}: "SESSION Get aliases" → -ERR Parse error at 8: verb was not one of the commands supported by Services (8 = offset of the bad element)`,
    send: 'SESSION Get aliases\n',
    reply: '-ERR Parse error at 8: verb was not one of the commands supported by Services\r\n',
  },
  'err-attribute': {
    id: 'err-attribute',
    kind: 'error',
    cite: `${RESP}: "SESSION get Aliases" → -ERR 'Aliases' is not supported by TextSession::Attributes`,
    send: 'SESSION get Aliases\n',
    reply: "-ERR 'Aliases' is not supported by TextSession::Attributes\r\n",
  },
  'err-attribute-block': {
    id: 'err-attribute-block',
    kind: 'error',
    cite: `${RESP}: the form -ERR '<attribute>' is not supported by <interface>::Attributes, and "an invalid attribute or service for a block type (it might be valid for a different object)"; ${MUTE}: a Mute block has no level`,
    send: 'Mute1 set level 1 -10\n',
    reply: "-ERR 'level' is not supported by MuteControlInterface::Attributes\r\n",
    note: 'The interface name of a Mute block is not printed by Biamp; a controller must not depend on it.',
  },
  'err-params': {
    id: 'err-params',
    kind: 'error',
    cite: `${RESP}: "Mixer1 set inputMute 1" → -ERR Parse error at 22: not enough parameters supplied (22 = the end of the line)`,
    send: 'Mixer1 set inputMute 1\n',
    reply: '-ERR Parse error at 22: not enough parameters supplied\r\n',
  },
  'err-value': {
    id: 'err-value',
    kind: 'error',
    cite: `${RESP}: "Input1 get gain channel1" → -ERR Parse error at 16: could not parse value (the index is numerical)`,
    send: 'Level1 get level channel1\n',
    reply: '-ERR Parse error at 17: could not parse value\r\n',
  },
  'err-index': {
    id: 'err-index',
    kind: 'error',
    cite: `${RESP}: "MyLevel1 get level 10" → -ERR INVALID_PARAMETER Index out of range:channelIndex min:1 max:8 received:10`,
    send: 'MyLevel1 get level 10\n',
    reply: '-ERR INVALID_PARAMETER Index out of range:channelIndex min:1 max:8 received:10\r\n',
  },
  'cannot-deliver': {
    id: 'cannot-deliver',
    kind: 'error',
    cite: `${RESP}: -CANNOT_DELIVER, "typically seen on a system with multiple Server devices … addressing a DSP object in another server"`,
    send: 'Level1 set level 1 -10\n',
    reply: '-CANNOT_DELIVER\r\n',
  },
  'general-failure': {
    id: 'general-failure',
    kind: 'error',
    cite: `${RESP}: -GENERAL_FAILURE, "a 'catch all' error code. Can occur when referencing a Instance Tag that is not in the Tesira file"`,
    send: 'Level1 set level 1 -10\n',
    reply: '-GENERAL_FAILURE\r\n',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
