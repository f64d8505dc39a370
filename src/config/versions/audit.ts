// The audit rows of config changes (audit.list {device: "config"}): who, from where, the
// versions and why — never the text, which may hold literal secrets. Pure.
import type { Cause } from '../../host/contract.js';
import type { AuditEntry } from '../../store/audit.js';
import { errorMessage } from '../../util/errors.js';
import type { ApplyRequest, ApplyResult } from './service.js';

/** A config.apply / config.rollback from an API client (WS or MQTT), accepted or refused. */
export function apiAuditRow(
  req: ApplyRequest,
  startedMs: number,
  nowMs: number,
  r: ApplyResult | null,
  e: unknown,
): Omit<AuditEntry, 'id'> {
  const cause: Cause = {
    kind: req.from === 'mqtt' ? 'mqtt' : 'api',
    name: req.who,
    ...(req.remote ? { detail: req.remote } : {}),
  };
  return {
    at: new Date(startedMs).toISOString(),
    cause,
    device: 'config',
    action: req.action === 'rollback' ? 'config.rollback' : 'config.apply',
    params: { base_version: req.base_version ?? null, why: req.why },
    ok: r !== null,
    result: r && { version: r.version, outcome: r.outcome },
    error: e === null ? null : errorMessage(e),
    duration_ms: nowMs - startedMs,
  };
}

/** The health gate's own rollback. */
export function rollbackAuditRow(
  failedVersion: string,
  restoredVersion: string,
  problems: string[],
  error: string | null,
  startedMs: number,
  nowMs: number,
): Omit<AuditEntry, 'id'> {
  return {
    at: new Date(startedMs).toISOString(),
    cause: { kind: 'system', name: 'health-gate' },
    device: 'config',
    action: 'config.auto_rollback',
    params: { failed_version: failedVersion, version: restoredVersion },
    ok: error === null,
    result: { version: restoredVersion, problems },
    error,
    duration_ms: nowMs - startedMs,
  };
}
