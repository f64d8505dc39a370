// Conformance table for Q-SYS QRC (TCP 1710, JSON-RPC 2.0, every message ends
// with NUL), written from QSC's QRC pages only (never from our driver or
// simulator). Rows are one JSON message each (the NUL is added on the wire).
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const OVERVIEW =
  'QSC QRC Overview (help.qsys.com q-sys_9.8 QRC_Overview.htm): TCP 1710, JSON-RPC 2.0, NUL-terminated, 60 s idle close';
const COMMANDS = 'QSC QRC Commands (q-syshelp.qsc.com QRC_Commands.htm)';
const ERRORS = 'QSC QRC error table (copy: infosys.beckhoff.com tf6310_qrc 7894781195.html)';

const msg = (m: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', ...m });
const ENGINE = { State: 'Active', DesignName: 'Room', DesignCode: 'qX1abc', IsRedundant: false, IsEmulator: false };

export const qsysTable = {
  'engine-status': {
    id: 'engine-status',
    kind: 'banner',
    cite: `${COMMANDS} "EngineStatus": pushed on connect and on every change, no id`,
    reply: msg({ method: 'EngineStatus', params: ENGINE }),
  },
  'engine-standby': {
    id: 'engine-standby',
    kind: 'unsolicited',
    cite: `${COMMANDS} "EngineStatus": State Idle, Active or Standby (the redundant partner is active)`,
    reply: msg({ method: 'EngineStatus', params: { ...ENGINE, State: 'Standby' } }),
  },
  'status-get': {
    id: 'status-get',
    kind: 'reply',
    cite: `${COMMANDS} "StatusGet": the EngineStatus fields plus Platform and Status`,
    send: msg({ id: 1, method: 'StatusGet', params: 0 }),
    reply: msg({ id: 1, result: { Platform: 'Core 110f', ...ENGINE, Status: { Code: 0, String: 'OK' } } }),
  },
  noop: {
    id: 'noop',
    kind: 'keepalive',
    cite: `${OVERVIEW}: the client must send something at least every 60 s; ${COMMANDS} "NoOp"`,
    send: msg({ id: 2, method: 'NoOp', params: {} }),
    reply: msg({ id: 2, result: true }),
  },
  'control-get': {
    id: 'control-get',
    kind: 'reply',
    cite: `${COMMANDS} "Control.Get": an array of {Name, Value, String, Position}`,
    send: msg({ id: 3, method: 'Control.Get', params: ['MainGain'] }),
    reply: msg({ id: 3, result: [{ Name: 'MainGain', Value: -12, String: '-12.0dB', Position: 0.73 }] }),
  },
  'control-set': {
    id: 'control-set',
    kind: 'reply',
    cite: `${COMMANDS} "Control.Set": {Name, Value, Ramp?}`,
    send: msg({ id: 4, method: 'Control.Set', params: { Name: 'MainGain', Value: -10 } }),
    reply: msg({ id: 4, result: true }),
  },
  'add-control': {
    id: 'add-control',
    kind: 'reply',
    cite: `${COMMANDS} "ChangeGroup.AddControl": {Id, Controls}`,
    send: msg({ id: 5, method: 'ChangeGroup.AddControl', params: { Id: 'g1', Controls: ['MainGain'] } }),
    reply: msg({ id: 5, result: true }),
  },
  'autopoll-push': {
    id: 'autopoll-push',
    kind: 'unsolicited',
    cite: `${COMMANDS} "ChangeGroup.AutoPoll": results arrive as ChangeGroup.Poll method calls with Changes`,
    reply: msg({
      method: 'ChangeGroup.Poll',
      params: { Id: 'room-agent', Changes: [{ Name: 'MainGain', Value: -6, String: '-6.0dB', Position: 0.78 }] },
    }),
  },
  'error-unknown-control': {
    id: 'error-unknown-control',
    kind: 'error',
    cite: `${ERRORS}: 8 = unknown control (e.g. ChangeGroup.AddControl of a control the design lacks; issue 17 §2)`,
    send: msg({ id: 6, method: 'ChangeGroup.AddControl', params: { Id: 'g1', Controls: ['NoSuchControl'] } }),
    reply: msg({ id: 6, error: { code: 8, message: 'Unknown control "NoSuchControl"' } }),
  },
  'error-unknown-component': {
    id: 'error-unknown-component',
    kind: 'error',
    cite: `${ERRORS}: 7 = unknown component`,
    send: msg({ id: 7, method: 'Component.Get', params: { Name: 'NoSuchComponent', Controls: [{ Name: 'gain' }] } }),
    reply: msg({ id: 7, error: { code: 7, message: 'Unknown component "NoSuchComponent"' } }),
  },
  'error-logon-required': {
    id: 'error-logon-required',
    kind: 'error',
    cite: `${ERRORS}: 10 = logon required`,
    send: msg({ id: 8, method: 'StatusGet', params: 0 }),
    reply: msg({ id: 8, error: { code: 10, message: 'Logon required' } }),
  },
  'error-method-not-found': {
    id: 'error-method-not-found',
    kind: 'error',
    cite: `${ERRORS}: JSON-RPC -32601 method not found`,
    send: msg({ id: 9, method: 'No.Such.Method', params: {} }),
    reply: msg({ id: 9, error: { code: -32601, message: 'Method not found' } }),
  },
  'error-parse': {
    id: 'error-parse',
    kind: 'error',
    cite: `${ERRORS}: JSON-RPC -32700 parse error`,
    send: '{not json',
    reply: msg({ id: null, error: { code: -32700, message: 'Parse error' } }),
  },
} satisfies ConformanceTable;

/** Driver cases failing today (issue 17); the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
