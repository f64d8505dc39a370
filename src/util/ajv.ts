import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * How every schema is compiled: defaults applied, all errors listed (the build's standalone validators
 * too). `x-secret` marks a secret config value (src/config/secret-schema.ts): an annotation, no check.
 */
export const AJV_OPTIONS: Options = {
  allErrors: true,
  useDefaults: true,
  coerceTypes: false,
  strict: false,
  keywords: ['x-secret'],
};

let shared: Ajv | undefined;

/**
 * One shared Ajv: defaults applied, unknown keys rejected where schemas say so. Made on first use:
 * the shipped agent's validators are generated at build time (scripts/ajv-standalone.ts), so it
 * starts without making one (~10 ms of CPU; docs/performance.md).
 */
export function sharedAjv(): Ajv {
  if (!shared) {
    shared = new Ajv(AJV_OPTIONS);
    // Schemas use standard formats (date-time, uri, …); without this Ajv ignores them.
    addFormats.default(shared);
  }
  return shared;
}

/** "params/speed: must be <= 24 (found 30)"-style message for one Ajv error. */
export function describeAjvError(e: ErrorObject, data?: unknown): string {
  const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where === '(root)' ? '' : `${where}.`}${(e.params as { additionalProperty: string }).additionalProperty}: unknown key`;
    case 'required':
      return `${where === '(root)' ? '' : `${where}.`}${(e.params as { missingProperty: string }).missingProperty}: required key is missing`;
    case 'enum':
      return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where}: ${e.message ?? e.keyword}${data !== undefined ? ` (found ${JSON.stringify(data)})` : ''}`;
  }
}
