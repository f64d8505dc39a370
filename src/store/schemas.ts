// The schema version this agent knows for each module's tables in
// room-agent.db (the number of its migrations). check-config and start
// compare a database against it: a module at a higher version was written by
// a newer agent, which this one must not open (downgrades are not supported).
// test/start-checks-db.test.ts fails when a module migrates tables that are not listed here.
import { CALENDAR_MIGRATIONS } from '../calendar/store.js';
import { configVersionMigrations } from '../config/versions/store.js';
import { DIRECTOR_MIGRATIONS } from '../director/log.js';
import { identityMigrations } from '../identity/store.js';
import { scenarioMigrations } from '../scenarios/store.js';
import { MIGRATIONS as SYNC_MIGRATIONS } from '../sync/outbox.js';
import { TRACKING_MIGRATIONS } from '../tracking/store.js';
import { auditMigrations } from './audit.js';

export const KNOWN_SCHEMAS: ReadonlyMap<string, number> = new Map([
  ['audit', auditMigrations.length],
  ['calendar', CALENDAR_MIGRATIONS.length],
  ['config_versions', configVersionMigrations.length],
  ['director', DIRECTOR_MIGRATIONS.length],
  ['identity', identityMigrations.length],
  ['scenarios', scenarioMigrations.length],
  ['sync', SYNC_MIGRATIONS.length],
  ['tracking', TRACKING_MIGRATIONS.length],
]);
