// `check-config` for device tables: builds each enabled device's driver
// without starting it (constructors do no I/O) and reports what its own
// config check refuses — a malformed connection string, an unknown time zone,
// a missing host. `start` does not refuse these (one bad device never keeps the
// room from starting; it stays in `error`), but they are config errors all the
// same. Simulated devices are skipped: their endpoint exists only once the
// simulator runs.
import { driverConfig } from './schema.js';
import { inertDriverContext } from '../host/inert-context.js';
import type { DriverRegistry } from '../host/registry.js';
import { errorMessage } from '../util/errors.js';
import type { ConfigIssue, LoadedConfig } from './load.js';
import { lineOf } from './locate.js';

export function checkDeviceConfigs(loaded: LoadedConfig, registry: DriverRegistry): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [id, cfg] of Object.entries(loaded.config.devices)) {
    const def = registry.get(cfg.driver);
    if (!def || cfg.simulated === true || cfg.enabled === false) continue;
    const ctx = inertDriverContext(id, loaded.config.agent.data_dir);
    try {
      def.create(driverConfig(cfg) as never, ctx);
    } catch (e) {
      const p = ['devices', id];
      issues.push({
        file: loaded.file,
        line: lineOf(loaded.lines, p),
        key: p.join('.'),
        message: `${errorMessage(e)} (the agent starts, but this device stays in "error")`,
      });
    }
  }
  return issues;
}
