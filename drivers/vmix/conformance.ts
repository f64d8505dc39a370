// Conformance table for the vMix TCP API (port 8099), written from vMix's
// documentation only (never from our driver or simulator): UTF-8 text, lines
// end in CR LF, replies are "<COMMAND> <OK|ER|length> [text]".
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TCPAPI = 'vMix TCP API (vmix.com/help28/TCPAPI.html)';

export const vmixTable = {
  'version-greeting': {
    id: 'version-greeting',
    kind: 'banner',
    cite: `${TCPAPI} "Responses" grammar; the VERSION OK line on connect: bitfocus/companion-module-studiocoast-vmix src/tcp.ts and issue 17 §5`,
    reply: 'VERSION OK 27.0.0.49\r\n',
  },
  'function-ok': {
    id: 'function-ok',
    kind: 'reply',
    cite: `${TCPAPI} "Responses": "MYCOMMAND OK This is the response to MYCOMMAND"; FUNCTION OK Completed as open-source vMix clients see it`,
    send: 'FUNCTION Cut\r\n',
    reply: 'FUNCTION OK Completed\r\n',
  },
  'function-er': {
    id: 'function-er',
    kind: 'error',
    cite: `${TCPAPI} "Responses": "MYCOMMAND ER This is an error message in response to MYCOMMAND"`,
    send: 'FUNCTION PreviewInput Input=99\r\n',
    reply: 'FUNCTION ER Input not found\r\n',
  },
  tally: {
    id: 'tally',
    kind: 'reply',
    cite: `${TCPAPI} "TALLY": "TALLY OK 0121…", one digit per input: 0 off, 1 program, 2 preview`,
    send: 'TALLY\r\n',
    reply: 'TALLY OK 1200\r\n',
  },
  subscribe: {
    id: 'subscribe',
    kind: 'reply',
    cite: `${TCPAPI} "SUBSCRIBE": "SUBSCRIBE OK TALLY", then TALLY lines on every change`,
    send: 'SUBSCRIBE TALLY\r\n',
    reply: 'SUBSCRIBE OK TALLY\r\n',
  },
  'tally-push': {
    id: 'tally-push',
    kind: 'unsolicited',
    cite: `${TCPAPI} "SUBSCRIBE TALLY": a TALLY OK line is sent on every tally change`,
    reply: 'TALLY OK 2100\r\n',
  },
  xml: {
    id: 'xml',
    kind: 'reply',
    cite: `${TCPAPI} "Responses": "MYCOMMAND 28" then that many bytes of data (the length counts the data and its CR LF); "XML": the API XML document`,
    send: 'XML\r\n',
    reply:
      'XML 289\r\n<vmix><version>27.0.0.49</version><edition>4K</edition><inputs><input key="k1" number="1" type="Capture" title="Cam 1" state="Running">Cam 1</input><input key="k2" number="2" type="Capture" title="Cam 2" state="Running">Cam 2</input></inputs><active>1</active><preview>2</preview></vmix>\r\n',
  },
  'xml-er': {
    id: 'xml-er',
    kind: 'error',
    cite: `${TCPAPI} "Responses": a single-line ER reply must be expected even for commands that return data; "XML ER Not ready" issue 17 §5`,
    send: 'XML\r\n',
    reply: 'XML ER Not ready\r\n',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
