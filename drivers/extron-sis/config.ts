// Configuration keys of `[devices.<id>]` with driver = "extron-sis".
import { type Static, Type } from '@sinclair/typebox';

export const ExtronSisConfig = Type.Object(
  {
    transport: Type.Union([Type.Literal('tcp'), Type.Literal('serial')], {
      default: 'tcp',
      description: '"tcp": Telnet (port 23); "serial": RS-232 (9600 8N1).',
    }),
    host: Type.Optional(Type.String({ minLength: 1, description: 'IP or name of the switcher (transport "tcp").' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 23, description: 'Telnet port.' }),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 (transport "serial").' })),
    baud_rate: Type.Integer({ minimum: 1200, maximum: 115_200, default: 9600, description: 'RS-232 speed (8N1).' }),
    password: Type.Optional(
      Type.String({ 'x-secret': true, description: 'Telnet password (administrator or user); use ${ENV_VAR}.' }),
    ),
    inputs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 512, description: 'Override the size the switcher reports (`I`).' }),
    ),
    outputs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 512, description: 'Override the output count the switcher reports.' }),
    ),
    input_labels: Type.Array(Type.String(), {
      default: [],
      description: 'Names for inputs 1, 2, … (SIS has no portable label query).',
    }),
    output_labels: Type.Array(Type.String(), { default: [], description: 'Names for outputs 1, 2, ….' }),
    keepalive_ms: Type.Integer({
      minimum: 1000,
      maximum: 240_000,
      default: 60_000,
      description: 'Period of the `Q` keep-alive; must stay well under the 300 s Telnet idle timeout.',
    }),
    request_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2000,
      description: 'Time allowed for each reply.',
    }),
  },
  { additionalProperties: false },
);
export type ExtronSisConfig = Static<typeof ExtronSisConfig>;
