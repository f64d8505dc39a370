// Top-level sections owned by feature modules. Each module adds its schema
// here (one line), so `api.toml` rejects keys nobody reads.
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { AlertsSectionSchema, MqttSectionSchema } from '../sync/schema.js';

export const sectionSchemas = {
  // feature sections are added below, one per module
  mqtt: Type.Optional(MqttSectionSchema),
  alerts: Type.Optional(AlertsSectionSchema),
} satisfies Record<string, TSchema>;

export { Type };
