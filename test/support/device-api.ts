// What the end-to-end driver tests read back over the JSON-RPC API (device
// records, audit rows), and a wait for a set of devices to come online; one
// copy for the matrix and mixer/audio end-to-end files.
import { expect, vi } from 'vitest';
import type { RpcTestClient } from './agent.js';

export interface StateValue {
  value: unknown;
  cause: { kind: string; name?: string; detail?: string };
}

/** `devices.get` answer. */
export interface DeviceRecord {
  status: { status: string; message: string; restarts: number };
  state: Record<string, StateValue>;
}

/** `audit.list` row. */
export interface AuditRow {
  device: string;
  action: string;
  params: Record<string, unknown>;
  ok: boolean;
  error: string | null;
  cause: { kind: string; name?: string };
}

/** Resolves when every device in `ids` reports `online` (fails naming the first that does not). */
export async function waitAllOnline(client: RpcTestClient, ids: string[], timeoutMs = 15_000): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const id of ids) {
        const d = await client.call<DeviceRecord>('devices.get', { device: id });
        expect(d.status.status, id).toBe('online');
      }
    },
    { timeout: timeoutMs, interval: 100 },
  );
}
