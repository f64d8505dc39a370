// Checks beyond api.toml itself that `check-config` runs (e.g. scenario files
// naming devices and actions). Modules add their checker to this list.
import type { DriverRegistry } from '../host/registry.js';
import { checkScenarios } from '../scenarios/check.js';
import type { ConfigIssue, LoadedConfig } from './load.js';

export type ConfigCheck = (loaded: LoadedConfig, registry: DriverRegistry) => ConfigIssue[];

export const configChecks: ConfigCheck[] = [checkScenarios];

export function runExtraChecks(loaded: LoadedConfig, registry: DriverRegistry): ConfigIssue[] {
  return configChecks.flatMap((check) => check(loaded, registry));
}
