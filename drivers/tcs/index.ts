import { defineDriver } from '../../src/host/contract.js';
import { createTcs, TcsConfigSchema } from './driver.js';
import { parseApiVersion, parseConnectionString } from './protocol.js';
import { demoConferences, TcsEmulator } from './simulator.js';

export const tcsDriver = defineDriver({
  name: 'tcs',
  kind: 'calendar',
  description: 'TrueConf Server calendar: conferences of one user (OAuth2 password grant, API v3.N or v4).',
  config: TcsConfigSchema,
  create: createTcs,
  async simulate(config, ctx) {
    let user = 'room';
    let password = 'demo';
    try {
      ({ user, password } = parseConnectionString(config.connectionString));
    } catch {
      // The driver reports the bad connection string; the emulator still starts.
    }
    const major = parseApiVersion(config.api_version ?? 'v3.11')?.major ?? 3;
    const owner = (config.user_id ?? user).includes('@') ? (config.user_id ?? user) : `${config.user_id ?? user}@tcs.demo`;
    const emu = new TcsEmulator({ users: { [user]: password }, host: ctx.host, port: ctx.port });
    const url = await emu.start();
    emu.conferences = demoConferences(Date.now(), owner, major, url);
    ctx.logger.info({ url }, `TrueConf Server emulator for ${ctx.id} listening`);
    const quoted = `"${password.replaceAll('"', '""')}"`;
    return {
      endpoint: { connectionString: `server=${url}; user=${user}; password=${quoted}; client_id=trueconf_server_users` },
      stop: () => emu.stop(),
    };
  },
});
