// Conformance table for the conference systems' camera outputs (Taiden,
// Sennheiser SDC 8000, Televic Confidea G3), written from the vendors'
// manuals only (never from our driver or simulator). These units only send;
// binary frames are written as latin1 text.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TAIDEN = 'Taiden HCS-3600 manual p.106 (manualshive) and taiden.com/doce/solution2.htm: camera tracking "call preposition"';
const SDC =
  'Sennheiser SDC 8000 camera control protocol (manualsdump sdc_8000 p.110-111): "%" + data + 16-bit ASCII sum as 4 hex digits + CR';
const CONFIDEA = 'Televic Confidea G3 manual, camera control (easymanua.ls confidea-g3 p.85): UDP JSON to port 8000';

export const conferenceTable = {
  'taiden-show-mic': {
    id: 'taiden-show-mic',
    kind: 'unsolicited',
    cite: `${TAIDEN}: E5 idH idL calls the preset of microphone id`,
    reply: '\xe5\x00\x07',
  },
  'taiden-panorama': {
    id: 'taiden-panorama',
    kind: 'unsolicited',
    cite: `${TAIDEN}: E5 00 00 = panorama (no microphone on)`,
    reply: '\xe5\x00\x00',
  },
  'sdc-delegate-on': {
    id: 'sdc-delegate-on',
    kind: 'unsolicited',
    cite: `${SDC}: %M<id> delegate microphone on (example %M00030110)`,
    reply: '%M00030110\r',
  },
  'sdc-delegate-off': {
    id: 'sdc-delegate-off',
    kind: 'unsolicited',
    cite: `${SDC}: %m<id> delegate microphone off (example %m00030130)`,
    reply: '%m00030130\r',
  },
  'sdc-chairman-on': {
    id: 'sdc-chairman-on',
    kind: 'unsolicited',
    cite: `${SDC}: %P<id> chairman microphone on (example %P00010111)`,
    reply: '%P00010111\r',
  },
  'sdc-chairman-off': {
    id: 'sdc-chairman-off',
    kind: 'unsolicited',
    cite: `${SDC}: %p<id> chairman microphone off (example %p00010131)`,
    reply: '%p00010131\r',
  },
  'sdc-all-off': {
    id: 'sdc-all-off',
    kind: 'unsolicited',
    cite: `${SDC}: %V0000 all microphones off at once (example %V00000116)`,
    reply: '%V00000116\r',
  },
  'sdc-sync': {
    id: 'sdc-sync',
    kind: 'unsolicited',
    cite: `${SDC}: %S<ids…> sync about every 5 s listing the microphones that are on (example %S000200030004029C)`,
    reply: '%S000200030004029C\r',
  },
  'sdc-sync-none': {
    id: 'sdc-sync-none',
    kind: 'unsolicited',
    cite: `${SDC}: %S0000 = no microphone on (example %S00000113)`,
    reply: '%S00000113\r',
  },
  'sdc-bad-checksum': {
    id: 'sdc-bad-checksum',
    kind: 'error',
    cite: `${SDC}: the checksum is the sum of the characters between % and the checksum; a frame whose sum does not match is corrupt`,
    reply: '%M00030111\r',
  },
  'confidea-on': {
    id: 'confidea-on',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: {"UID": 7, "status": 1}; status 0 off, 1 on, 2 request, 3 prior`,
    reply: '{"UID": 7, "status": 1}',
  },
  'confidea-off': {
    id: 'confidea-off',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: status 0 = off`,
    reply: '{"UID": 7, "status": 0}',
  },
  'confidea-request': {
    id: 'confidea-request',
    kind: 'unsolicited',
    cite: `${CONFIDEA}: status 2 = request to speak (not speech)`,
    reply: '{"UID": 9, "status": 2}',
  },
} satisfies ConformanceTable;

/** Driver cases failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
