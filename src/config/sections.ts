// Top-level sections owned by feature modules. Each module adds its schema
// here (one line), so `api.toml` rejects keys nobody reads.
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';

export const sectionSchemas = {
  // feature sections are added below, one per module
} satisfies Record<string, TSchema>;

export { Type };
