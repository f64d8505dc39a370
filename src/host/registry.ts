import { declareDriverSecrets } from '../config/secret-rule.js';
import type { DriverDefinition } from './contract.js';

/** Drivers by name. The built-in list lives in drivers/index.ts. */
export class DriverRegistry {
  private readonly drivers = new Map<string, DriverDefinition>();
  constructor(defs: readonly DriverDefinition[] = []) {
    for (const d of defs) this.register(d);
  }
  register(def: DriverDefinition): void {
    if (this.drivers.has(def.name)) throw new Error(`driver "${def.name}" registered twice`);
    this.drivers.set(def.name, def);
    declareDriverSecrets(def.name, def.config);
  }
  get(name: string): DriverDefinition | undefined {
    return this.drivers.get(name);
  }
  names(): string[] {
    return [...this.drivers.keys()].sort();
  }
  all(): DriverDefinition[] {
    return [...this.drivers.values()];
  }
}
