// Conformance table for Shure command strings (TCP 2202: MXA910, MXA920,
// MXA710, P300), written from Shure's command-string pages only (never from
// our driver or simulator). Messages are "< … >"; no Telnet negotiation.
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const MXA910 = 'Shure MXA910 command strings (pubs.shure.com/command-strings/MXA910; easymanua.ls mxa910 p.64-69)';
const MXA920 = 'Shure MXA920 command strings (pubs.shure.com/command-strings/MXA920)';

export const shureTable = {
  'get-gates': {
    id: 'get-gates',
    kind: 'reply',
    cite: `${MXA910}: GET 0 AUTOMIX_GATE_OUT_EXT_SIG → one REP per channel`,
    send: '< GET 0 AUTOMIX_GATE_OUT_EXT_SIG >',
    reply:
      '< REP 01 AUTOMIX_GATE_OUT_EXT_SIG OFF >< REP 02 AUTOMIX_GATE_OUT_EXT_SIG ON >< REP 03 AUTOMIX_GATE_OUT_EXT_SIG OFF >< REP 04 AUTOMIX_GATE_OUT_EXT_SIG OFF >',
  },
  'gate-change': {
    id: 'gate-change',
    kind: 'unsolicited',
    cite: `${MXA910} p.69: the REP is sent whenever the gate changes`,
    reply: '< REP 03 AUTOMIX_GATE_OUT_EXT_SIG ON >',
  },
  'gate-change-one-digit': {
    id: 'gate-change-one-digit',
    kind: 'unsolicited',
    cite: `${MXA910}: the MXA910 page writes the channel as a single x (0-9, plus 10)`,
    reply: '< REP 4 AUTOMIX_GATE_OUT_EXT_SIG ON >',
  },
  'coverage-gate': {
    id: 'coverage-gate',
    kind: 'unsolicited',
    cite: `${MXA920}: with Automatic Coverage on, AUTOMIX_GATE_OUT_CA per coverage area`,
    send: '< GET 0 AUTOMIX_GATE_OUT_CA >',
    reply: '< REP 02 AUTOMIX_GATE_OUT_CA ON >',
  },
  'rep-err': {
    id: 'rep-err',
    kind: 'error',
    cite: `${MXA920} (transcription ai4av.net): errors come back as < REP ERR >`,
    send: '< GET 0 AUTOMIX_GATE_OUT_EXT_SIG >',
    reply: '< REP ERR >',
  },
  'set-mute': {
    id: 'set-mute',
    kind: 'reply',
    cite: `${MXA910}: SET x AUDIO_MUTE ON → REP x AUDIO_MUTE ON`,
    send: '< SET 01 AUDIO_MUTE ON >',
    reply: '< REP 01 AUDIO_MUTE ON >',
  },
  'sample-metering': {
    id: 'sample-metering',
    kind: 'unsolicited',
    cite: `${MXA910}: with METER_RATE set the device streams < SAMPLE aaa bbb … > (values 000-060)`,
    reply: '< SAMPLE 012 034 000 000 000 000 000 000 >',
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
