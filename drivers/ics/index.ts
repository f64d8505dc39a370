import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineDriver } from '../../src/host/contract.js';
import { packageRoot } from '../../src/util/package-root.js';
import { createIcs, IcsConfigSchema } from './driver.js';
import { IcsServer } from './simulator.js';

/** The sample shipped with the driver: Outlook-style, recurring, so "today" always has meetings. */
// From the package root: tsc does not copy it into dist/, and the bundle lives elsewhere.
export const SAMPLE_ICS = path.join(packageRoot(), 'drivers', 'ics', 'sample', 'room.ics');

export const icsDriver = defineDriver({
  name: 'ics',
  kind: 'calendar',
  description: 'iCalendar feed: an Outlook/Exchange published calendar, any .ics URL, or a local file.',
  config: IcsConfigSchema,
  create: createIcs,
  async simulate(config, ctx) {
    // Serve the configured file (or the shipped sample) over HTTP with ETags.
    const local = config.url && !/^https?:/i.test(config.url) ? config.url : null;
    const file = local ? (local.startsWith('file:') ? fileURLToPath(local) : path.resolve(local)) : SAMPLE_ICS;
    const body = await fs.readFile(file, 'utf8').catch(() => fs.readFile(SAMPLE_ICS, 'utf8'));
    const server = new IcsServer(body);
    const url = await server.start(ctx.host, ctx.port);
    ctx.logger.info({ url }, `iCalendar server for ${ctx.id} listening`);
    return { endpoint: { url }, stop: () => server.stop() };
  },
});
