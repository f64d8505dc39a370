// Checks beyond the schema that `check-config` runs: the refusals `start`
// makes (start-checks.ts, shared with the agent), device configs the drivers
// refuse (device-checks.ts), scenario files naming devices and actions.
// Modules add their checker to this list.
import type { DriverRegistry } from '../host/registry.js';
import { checkScenarios } from '../scenarios/check.js';
import { checkDeviceConfigs } from './device-checks.js';
import type { ConfigIssue, LoadedConfig } from './load.js';
import { startRefusals } from './start-checks.js';

export type ConfigCheck = (loaded: LoadedConfig, registry: DriverRegistry) => ConfigIssue[];

export const configChecks: ConfigCheck[] = [startRefusals, checkDeviceConfigs, checkScenarios];

export function runExtraChecks(loaded: LoadedConfig, registry: DriverRegistry): ConfigIssue[] {
  return configChecks.flatMap((check) => check(loaded, registry));
}
