import path from 'node:path';
import type { ConfigIssue, LoadedConfig } from '../config/load.js';
import { driverConfig } from '../config/schema.js';
import type { ActionDefinition } from '../host/contract.js';
import { inertDriverContext } from '../host/inert-context.js';
import type { DriverRegistry } from '../host/registry.js';
import type { DeviceCatalog } from './load.js';
import { loadScenarios } from './load.js';
import { scenarioFolders } from './index.js';
import type { ScenariosSection } from './schema.js';

/**
 * `check-config` for scenario files: builds each configured driver (without
 * starting it — constructors do no I/O) to learn its actions, then checks
 * every step's device, action and params.
 */
export function checkScenarios(loaded: LoadedConfig, registry: DriverRegistry): ConfigIssue[] {
  const devices = loaded.config.devices;
  const actions = new Map<string, Record<string, ActionDefinition> | null>();
  for (const [id, cfg] of Object.entries(devices)) {
    const def = registry.get(cfg.driver);
    if (!def) continue;
    const ctx = inertDriverContext(id, loaded.config.agent.data_dir);
    try {
      actions.set(id, def.create(driverConfig(cfg) as never, ctx).actions);
    } catch {
      actions.set(id, null);
    }
  }
  const catalog: DeviceCatalog = {
    ids: () => Object.keys(devices),
    kind: (id) => registry.get(devices[id]?.driver ?? '')?.kind,
    actions: (id) => actions.get(id) ?? null,
  };
  const section = (loaded.config as { scenarios?: Partial<ScenariosSection> }).scenarios;
  return loadScenarios(scenarioFolders(section, path.dirname(loaded.file)), catalog).issues;
}
