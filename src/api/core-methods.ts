import { Type } from '@sinclair/typebox';
import { DEVICE_STATUSES } from '../host/contract.js';
import type { DeviceHost } from '../host/host.js';
import type { DeviceStateStore } from '../state/devices.js';
import type { AuditLog } from '../store/audit.js';
import { AgentError } from '../util/errors.js';
import type { RpcClient, RpcRegistry } from './rpc.js';

export interface CoreDeps {
  rpc: RpcRegistry;
  host: DeviceHost;
  devices: DeviceStateStore;
  audit: AuditLog;
  info: () => Record<string, unknown>;
}

const DeviceParam = Type.Object({ device: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const TopicsParam = Type.Object(
  { topics: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }) },
  { additionalProperties: false },
);

// Result schemas: documentation and the typed client (src/client/methods.ts) are generated from them.
const CauseSchema = Type.Object({
  kind: Type.Union(
    ['api', 'scenario', 'director', 'device', 'system', 'mqtt', 'calendar', 'trigger'].map((k) => Type.Literal(k)),
  ),
  name: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
});
const StatusInfoSchema = Type.Object({
  status: Type.Union(DEVICE_STATUSES.map((s) => Type.Literal(s))),
  message: Type.String(),
  since: Type.String({ description: 'ISO time the status last changed.' }),
  restarts: Type.Integer({ description: 'How often the link was re-established or the driver restarted.' }),
  last_error: Type.Union([Type.Object({ message: Type.String(), at: Type.String() }), Type.Null()]),
});
const StateValuesSchema = Type.Record(
  Type.String(),
  Type.Object({ value: Type.Unknown(), changed_at: Type.String(), cause: CauseSchema }),
);
const DeviceRecordSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  driver: Type.String(),
  kind: Type.Union(
    ['camera', 'matrix', 'mixer', 'audio', 'microphone', 'recorder', 'calendar', 'other'].map((k) => Type.Literal(k)),
  ),
  simulated: Type.Boolean(),
  status: StatusInfoSchema,
  state: StateValuesSchema,
});
const SubscribedSchema = Type.Object({ subscribed: Type.Array(Type.String()) });

/** The methods every room has: system, devices, actions, subscriptions, audit. */
export function registerCoreMethods(d: CoreDeps): void {
  const { rpc, host, devices } = d;

  rpc.method({
    name: 'system.info',
    description: 'Name, package version, runtime and config version, room id, uptime of the agent, and its WebSocket limits.',
    role: 'viewer',
    params: Type.Object({}, { additionalProperties: false }),
    result: Type.Object({
      name: Type.String(),
      room_id: Type.String(),
      version: Type.String(),
      started_at: Type.String(),
      uptime_s: Type.Integer(),
      node: Type.String({ description: 'Node runtime version (process.version).' }),
      config_version: Type.String({
        description: 'Hash of the running config text: sha256: and 16 hex digits (docs/fleet.md).',
      }),
      limits: Type.Object(
        {
          max_frame_bytes: Type.Integer(),
          max_batch: Type.Integer(),
          max_reply_bytes: Type.Integer(),
          max_in_flight: Type.Integer(),
        },
        { description: 'The WebSocket limits of [api] (docs/api.md, "Limits"): a client keeps under them.' },
      ),
    }),
    handler: () => d.info(),
  });

  rpc.method({
    name: 'devices.list',
    description: 'Every device with its status and state.',
    role: 'viewer',
    params: Type.Object({}, { additionalProperties: false }),
    result: Type.Array(DeviceRecordSchema),
    handler: () => devices.list(),
  });

  rpc.method({
    name: 'devices.get',
    description: 'One device with its status and state.',
    role: 'viewer',
    params: DeviceParam,
    result: DeviceRecordSchema,
    handler: (p) => {
      const rec = devices.get(p.device);
      if (!rec) throw new AgentError('DEVICE_NOT_FOUND', `no device "${p.device}"`);
      return rec;
    },
  });

  rpc.method({
    name: 'actions.list',
    description: "A device's actions, each with its parameter schema (JSON Schema), so a UI can draw controls.",
    role: 'viewer',
    params: DeviceParam,
    result: Type.Array(
      Type.Object({
        name: Type.String(),
        description: Type.String(),
        params: Type.Unknown({ description: 'JSON Schema of the action params.' }),
        read_only: Type.Boolean(),
        allow_offline: Type.Boolean(),
      }),
    ),
    handler: (p) => {
      if (!devices.get(p.device)) throw new AgentError('DEVICE_NOT_FOUND', `no device "${p.device}"`);
      return Object.entries(host.actions(p.device)).map(([name, a]) => ({
        name,
        description: a.description,
        params: JSON.parse(JSON.stringify(a.params)),
        read_only: a.readOnly === true,
        allow_offline: a.allowOffline === true,
      }));
    },
  });

  rpc.method({
    name: 'device.action',
    description: 'Run a device action; answers with its result once the device confirmed it.',
    role: 'operator',
    params: Type.Object(
      {
        device: Type.String({ minLength: 1 }),
        action: Type.String({ minLength: 1 }),
        params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: false },
    ),
    // The params were parsed for this call (WS or MQTT request): the host validates them in place.
    handler: (p, client) =>
      host.invoke(
        p.device,
        p.action,
        p.params ?? {},
        {
          kind: client.transport === 'mqtt' ? 'mqtt' : 'api',
          name: client.principal.name,
          detail: client.remote,
        },
        undefined,
        true,
      ),
  });

  rpc.method({
    name: 'subscribe',
    description: 'Subscribe to topics; answers with a snapshot of each, then pushes `event` notifications.',
    role: 'viewer',
    params: TopicsParam,
    result: Type.Object({
      subscribed: Type.Array(Type.String()),
      snapshot: Type.Record(Type.String(), Type.Unknown(), { description: 'The current picture of each topic asked for.' }),
    }),
    handler: (p, client: RpcClient) => {
      const unknown = p.topics.filter((t) => !rpc.getTopic(t));
      if (unknown.length) {
        const known = rpc
          .listTopics()
          .map((t) => t.name)
          .join(', ');
        throw new AgentError('INVALID_PARAMS', `unknown topic(s) ${unknown.join(', ')}; topics: ${known}`);
      }
      const snapshot: Record<string, unknown> = Object.create(null); // keys are client-given topic names
      for (const t of p.topics) {
        client.topics.add(t);
        snapshot[t] = rpc.getTopic(t)?.snapshot(client);
      }
      return { subscribed: [...client.topics], snapshot };
    },
  });

  rpc.method({
    name: 'unsubscribe',
    description: 'Stop receiving the given topics.',
    role: 'viewer',
    params: TopicsParam,
    result: SubscribedSchema,
    handler: (p, client: RpcClient) => {
      for (const t of p.topics) client.topics.delete(t);
      return { subscribed: [...client.topics] };
    },
  });

  rpc.method({
    name: 'audit.list',
    description: 'The audit log: every device action, who asked, the result and duration (newest first).',
    role: 'admin',
    params: Type.Object(
      {
        device: Type.Optional(Type.String()),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        before_id: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    handler: (p) => d.audit.list(p),
  });

  rpc.topic({
    name: 'devices',
    description: 'Device status and state changes: {device, status} or {device, state: {key: {value, changed_at, cause}}}.',
    snapshot: () => devices.list(),
    data: Type.Union([
      Type.Object({ device: Type.String(), status: StatusInfoSchema }),
      Type.Object({ device: Type.String(), state: StateValuesSchema }),
    ]),
  });
}
