// Conformance table for the conference systems' camera outputs (Taiden,
// Sennheiser SDC 8000, Televic Confidea G3), written from the vendors'
// documents only (never from our driver or simulator). Binary frames are
// written as latin1 text. Run against the simulator and the driver by
// conformance.test.ts.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TAIDEN_MANUAL =
  'Taiden HCS-3600 installation and operating manual ch. 8.1 "Control Protocol of Conference Main Unit" (p.106)';
const TAIDEN_WEB = 'taiden.com/doce/solution2.htm §4 "Video tracking command"';
const SDC =
  'Sennheiser SDC 8000 manual appendix A "Camera control protocol" (pp.110-111; same text SDC 8200 pp.120-121, Televic TCS5500 appendix B pp.87-89)';
const SDC_RULE =
  '"%" + data + CRC + CR (0x0D); CRC = 16-bit sum of the ASCII characters between "%" and the CRC, 4 upper-case hex digits';
const CONFIDEA = 'Televic Confidea G3 manual "Camera control" (p.85; Confidea manual §11.1.3 p.43)';

export const conferenceTable = {
  // --- Taiden -------------------------------------------------------------------------------
  'taiden-start-tracking': {
    id: 'taiden-start-tracking',
    kind: 'handshake',
    cite: `${TAIDEN_MANUAL} item 3a "Start video track: 0xe3 0xe4 00"; ${TAIDEN_WEB} (1) "Start video tracking E3 E4 00"`,
    send: '\xe3\xe4\x00',
    reply: '',
    note: 'The unit does not answer; its tracking output (E5) follows. Whether the output needs this command is not stated: our simulator requires it [inferred].',
  },
  'taiden-show-mic': {
    id: 'taiden-show-mic',
    kind: 'unsolicited',
    cite: `${TAIDEN_MANUAL} item 3d "Current tracking microphone: 0xe5 id" (2 bytes, high first); ${TAIDEN_WEB} NOTE (1): sent when a microphone switches on`,
    reply: '\xe5\x00\x07',
  },
  'taiden-panorama': {
    id: 'taiden-panorama',
    kind: 'unsolicited',
    cite: `${TAIDEN_MANUAL} item 3d "id=0x0000 stands for panorama"; ${TAIDEN_WEB} NOTE (2): sent when the (only) microphone switches off`,
    reply: '\xe5\x00\x00',
  },
  'taiden-chairman-after-off': {
    id: 'taiden-chairman-after-off',
    kind: 'unsolicited',
    cite: `${TAIDEN_WEB} NOTE (3): several on, one switches off → the chairman's position when the chairman is on (chairman 1; 1 and 5 on, 5 off)`,
    reply: '\xe5\x00\x01',
  },
  'taiden-lowest-after-off': {
    id: 'taiden-lowest-after-off',
    kind: 'unsolicited',
    cite: `${TAIDEN_WEB} NOTE (4): several on (no chairman), one switches off → the position of the lowest id still on (4, 6, 9 on; 9 off)`,
    reply: '\xe5\x00\x04',
  },
  // --- SDC 8000 -----------------------------------------------------------------------------
  'sdc-first-on': {
    id: 'sdc-first-on',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'1'}{'R'}{'00'}{CRC(4)} "the first microphone is activated. The camera control is activated."; ${SDC_RULE}`,
    reply: '%1R0000E3\r',
    note: 'Sent before the first microphone\'s %M/%P. The manual\'s printed example "%1R0053" has 2 characters too few and a CRC that does not follow the rule; see sdc-first-on-printed.',
  },
  'sdc-first-on-printed': {
    id: 'sdc-first-on-printed',
    kind: 'unsolicited',
    cite: `${SDC}: the example printed for %1R, "%1R0053", verbatim`,
    reply: '%1R0053\r',
    note: 'Does not fit the syntax or the CRC rule; a driver must not let it change state or raise more than a log line.',
  },
  'sdc-delegate-on': {
    id: 'sdc-delegate-on',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'M'}{Mic.-No.(4)}{CRC(4)} delegate unit activated, example %M00030110`,
    reply: '%M00030110\r',
  },
  'sdc-delegate-off': {
    id: 'sdc-delegate-off',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'m'}{Mic.-No.(4)}{CRC(4)} delegate unit deactivated, example %m00030130`,
    reply: '%m00030130\r',
  },
  'sdc-chairman-on': {
    id: 'sdc-chairman-on',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'P'}{Mic.-No.(4)}{CRC(4)} chairman unit activated, example %P00010111`,
    reply: '%P00010111\r',
  },
  'sdc-chairman-off': {
    id: 'sdc-chairman-off',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'p'}{Mic.-No.(4)}{CRC(4)} chairman unit deactivated, example %p00010131`,
    reply: '%p00010131\r',
  },
  'sdc-last-off-reset': {
    id: 'sdc-last-off-reset',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'1'}{'r'}{'00'}{CRC(4)} "all active microphones are deactivated and the camera control should reset itself to a neutral starting position" (after the last one went off one by one); ${SDC_RULE}`,
    reply: '%1r000103\r',
    note: 'The printed example "%1r000052" carries a CRC that does not follow the rule; see sdc-reset-printed.',
  },
  'sdc-reset-printed': {
    id: 'sdc-reset-printed',
    kind: 'unsolicited',
    cite: `${SDC}: the example printed for %1r, "%1r000052", verbatim (also TCS5500 appendix B p.89)`,
    reply: '%1r000052\r',
    note: 'CRC 0052 is not the sum of "1r00" (0103). Plixus TLVCAM1 prints the reset as "%R0052", which does fit the rule; a unit may send either.',
  },
  'sdc-all-off': {
    id: 'sdc-all-off',
    kind: 'unsolicited',
    cite: `${SDC}: {'%'}{'V'}{'0000'}{CRC(4)} all active microphones deactivated simultaneously (priority), example %V00000116`,
    reply: '%V00000116\r',
  },
  'sdc-sync': {
    id: 'sdc-sync',
    kind: 'keepalive',
    cite: `${SDC}: {'%'}{'S'}{Mic.-No.(4)}1+{CRC(4)} "at a time interval of approx. 5 seconds" with every active microphone, example %S000200030004029C`,
    reply: '%S000200030004029C\r',
  },
  'sdc-sync-none': {
    id: 'sdc-sync-none',
    kind: 'keepalive',
    cite: `${SDC}: {'%'}{'S'}{0(4)}{CRC(4)} no microphone active, example %S00000113; sent every ~5 s like any sync`,
    reply: '%S00000113\r',
  },
  'sdc-bad-checksum': {
    id: 'sdc-bad-checksum',
    kind: 'error',
    cite: `${SDC}: ${SDC_RULE}; a frame whose CRC does not match its data is corrupt (the unit sends no error message of its own)`,
    reply: '%M00030111\r',
  },
  // --- Confidea G3 --------------------------------------------------------------------------
  'confidea-on': {
    id: 'confidea-on',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: after a microphone button event {"UID": micnr,"status": x}; status 1 = on`,
    reply: '{"UID": 7,"status": 1}',
  },
  'confidea-off': {
    id: 'confidea-off',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: status 0 = off`,
    reply: '{"UID": 7,"status": 0}',
  },
  'confidea-request': {
    id: 'confidea-request',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: status 2 = request; the manual's own example "data sent when microphone 7 is in request: {"UID": 7,"status": 2}" (microphone 9 here)`,
    reply: '{"UID": 9,"status": 2}',
  },
  'confidea-prior': {
    id: 'confidea-prior',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: status 3 = prior (the priority microphone)`,
    reply: '{"UID": 1,"status": 3}',
  },
} satisfies ConformanceTable;

/** Driver cases failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
