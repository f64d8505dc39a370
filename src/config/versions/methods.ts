// config.* methods (role admin), over WebSocket and MQTT `cmd/<method>` alike.
// Answers never carry a secret: texts are shown redacted (redact.ts), the
// history lists versions without their text.
import { Type } from '@sinclair/typebox';
import type { RpcClient, RpcRegistry } from '../../api/rpc.js';
import { formatIssue } from '../load.js';
import type { ApplyRequest, ConfigVersions } from './service.js';
import { CONFIG_ACTIONS, CONFIG_OUTCOMES, CONFIG_SOURCES, type VersionRow } from './store.js';

const Version = Type.String({
  pattern: '^sha256:[0-9a-f]{16}$',
  description: 'A config version: `sha256:` and 16 hex digits of the text (config.get, config.history, status).',
});
const Issue = Type.Object({
  file: Type.String(),
  line: Type.Optional(Type.Integer()),
  key: Type.String(),
  message: Type.String(),
});
const Meta = {
  id: Type.Integer({ description: 'Row of the history (grows with every change).' }),
  version: Version,
  who: Type.String({ description: 'Token name, "file", or "health-gate" for an automatic rollback.' }),
  at: Type.String(),
  why: Type.String(),
  from: Type.Union(CONFIG_SOURCES.map((s) => Type.Literal(s))),
  action: Type.Union(CONFIG_ACTIONS.map((s) => Type.Literal(s))),
  base_version: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union(CONFIG_OUTCOMES.map((s) => Type.Literal(s))),
  detail: Type.Union([Type.String(), Type.Null()], { description: 'What failed (rolled_back, failed, interrupted).' }),
  outcome_at: Type.String(),
};
const HistoryRow = Type.Object(Meta);
const ApplyResultSchema = Type.Object({
  id: Type.Union([Type.Integer(), Type.Null()]),
  version: Version,
  previous_version: Version,
  outcome: Type.Union(
    ['unchanged', 'checking', 'running', 'rolled_back'].map((s) => Type.Literal(s)),
    {
      description: 'checking: running, inside its health window (config.history shows how it ends; wait: true answers after it).',
    },
  ),
  problems: Type.Optional(Type.Array(Type.String(), { description: 'What the health gate found, when it rolled back.' })),
  health_window_s: Type.Optional(Type.Integer()),
  reload: Type.Optional(Type.Unknown({ description: 'What the reload restarted, kept and failed.' })),
});
const WAIT = Type.Optional(
  Type.Boolean({ description: 'Answer only once the health gate decided (up to [agent] config_health_window_s).' }),
);

function meta(r: VersionRow) {
  const { text: _text, sha256: _sha, must_online: _must, ...rest } = r;
  return rest;
}

function source(client: RpcClient): Pick<ApplyRequest, 'from' | 'who' | 'remote'> {
  return { from: client.transport === 'mqtt' ? 'mqtt' : 'ws', who: client.principal.name, remote: client.remote };
}

export function registerConfigMethods(rpc: RpcRegistry, versions: ConfigVersions): void {
  rpc.method({
    name: 'config.get',
    description:
      'The running config text (or an older version\'s) with `${NAME}` references as written and literal secrets replaced by "(redacted: key)" placeholders, which config.apply accepts back.',
    role: 'admin',
    params: Type.Object({ version: Type.Optional(Version) }, { additionalProperties: false }),
    result: Type.Object({ ...Meta, text: Type.String(), file: Type.String() }),
    handler: (p) => {
      const r = versions.redacted(p.version);
      return { ...meta(r), text: r.text, file: versions.file };
    },
  });

  rpc.method({
    name: 'config.validate',
    description:
      'Checks a config text exactly as `room-agent check-config` does; `errors` are its lines (file:line: key: message). `restart_needed` lists changes a running agent cannot take.',
    role: 'admin',
    params: Type.Object({ toml: Type.String() }, { additionalProperties: false }),
    result: Type.Object({
      ok: Type.Boolean(),
      version: Type.Union([Version, Type.Null()]),
      errors: Type.Array(Type.String()),
      issues: Type.Array(Issue),
      restart_needed: Type.Array(Issue),
    }),
    handler: (p) => {
      const c = versions.check(p.toml);
      return {
        ok: c.loaded !== null && c.issues.length === 0 && c.restart_needed.length === 0,
        version: c.loaded?.version ?? null,
        errors: c.issues.map(formatIssue),
        issues: c.issues,
        restart_needed: c.restart_needed,
      };
    },
  });

  rpc.method({
    name: 'config.apply',
    description:
      'Makes a config text the running one: refused (CONFLICT) unless base_version is the running version, refused with the check-config errors when invalid (nothing written); else stored, written atomically, reloaded and health-checked (rolled back by itself when unhealthy).',
    role: 'admin',
    params: Type.Object(
      {
        toml: Type.String({ minLength: 1 }),
        base_version: Version,
        why: Type.String({ minLength: 1, maxLength: 1000 }),
        wait: WAIT,
      },
      { additionalProperties: false },
    ),
    result: ApplyResultSchema,
    handler: (p, client) =>
      versions.apply({ toml: p.toml, base_version: p.base_version, why: p.why, wait: p.wait, ...source(client) }),
  });

  rpc.method({
    name: 'config.history',
    description:
      'Config versions, newest first: who, when, why, from where and the outcome (no text; config.get {version} shows one).',
    role: 'admin',
    params: Type.Object(
      {
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        before_id: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    result: Type.Object({ running: Version, versions: Type.Array(HistoryRow) }),
    handler: (p) => ({ running: versions.running().version, versions: versions.history.list(p).map(meta) }),
  });

  rpc.method({
    name: 'config.rollback',
    description:
      'Makes an older version from config.history the running one again (same checks, write, reload and health gate as config.apply).',
    role: 'admin',
    params: Type.Object(
      { version: Version, why: Type.Optional(Type.String({ maxLength: 1000 })), wait: WAIT },
      { additionalProperties: false },
    ),
    result: ApplyResultSchema,
    handler: (p, client) =>
      versions.rollback(p.version, { why: p.why ?? `rollback to ${p.version}`, wait: p.wait, ...source(client) }),
  });
}
