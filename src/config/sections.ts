// Top-level sections owned by feature modules. Each module adds its schema
// here (one line), so `api.toml` rejects keys nobody reads.
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { ApiSectionSchema } from '../api/config.js';
import { CalendarSectionSchema } from '../calendar/config.js';
import { DirectorSectionSchema } from '../director/config.js';
import { AlertsSectionSchema, MqttSectionSchema } from '../sync/schema.js';
import { VideoSectionSchema } from '../video/schema.js';
import { TrackingSectionSchema } from '../tracking/config.js';
import { ScenariosSectionSchema } from '../scenarios/schema.js';
import { IdentitySectionSchema } from '../identity/config.js';
import { TwilioSectionSchema } from '../twilio/config.js';

export const sectionSchemas = {
  // feature sections are added below, one per module
  api: Type.Optional(ApiSectionSchema),
  calendar: Type.Optional(CalendarSectionSchema),
  director: Type.Optional(DirectorSectionSchema),
  mqtt: Type.Optional(MqttSectionSchema),
  video: Type.Optional(VideoSectionSchema),
  alerts: Type.Optional(AlertsSectionSchema),
  tracking: Type.Optional(TrackingSectionSchema),
  scenarios: Type.Optional(ScenariosSectionSchema),
  identity: Type.Optional(IdentitySectionSchema),
  twilio: Type.Optional(TwilioSectionSchema),
} satisfies Record<string, TSchema>;
