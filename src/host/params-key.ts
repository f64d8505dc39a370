// The key a params schema's build-time validator is found by (src/host/params-validators.ts and the
// module scripts/ajv-standalone.ts generates in its place): a hash of the schema as JSON, which is
// everything Ajv reads of it (TypeBox's symbol keys are not JSON and Ajv ignores them too). Two
// schema objects with the same JSON get the same validator; a schema the build did not see (a
// driver outside the package, params built from a config the demo does not have) has a key the
// generated module does not know, and is compiled at run time.
import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';

export function paramsSchemaKey(schema: TSchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('base64url').slice(0, 22);
}
