// The validators of the config file, its devices and the scenario files, compiled from the TypeBox
// schemas by Ajv when this module loads. This is what tsx and the tests run. The shipped bundle
// does not contain this file: scripts/build-agent.ts puts in its place the same validators as
// code Ajv generated at build time (scripts/ajv-standalone.ts, Ajv's `standaloneCode`), so the
// agent compiles none of these schemas when it starts. Both come from the same schemas; a test
// (test/ajv-standalone.test.ts) checks they answer alike. Keep the two exports' shapes in step
// with the generated module.
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { ScenarioFileSchema } from '../scenarios/schema.js';
import { sharedAjv } from '../util/ajv.js';
import { ConfigSchema, DeviceCommonSchema } from './schema.js';

/** The whole api.toml (devices are checked per driver by `deviceValidator`). */
export const validateConfigFile: ValidateFunction = sharedAjv().compile(ConfigSchema);

/** One scenarios/*.toml file. */
export const validateScenarioFile: ValidateFunction = sharedAjv().compile(ScenarioFileSchema);

/** A `[devices.<id>]` table's schema: the keys every device has and the driver's own. */
export function deviceSchema(driverSchema: TObject): TSchema {
  return Type.Composite([DeviceCommonSchema, driverSchema], { additionalProperties: false });
}

const compiled = new Map<string, ValidateFunction>();

/** The validator of a driver's device table, compiled on first use and kept by driver name. */
export function deviceValidator(driverName: string, driverSchema: TObject): ValidateFunction {
  let v = compiled.get(driverName);
  if (!v) {
    v = sharedAjv().compile(deviceSchema(driverSchema));
    compiled.set(driverName, v);
  }
  return v;
}
