// Everything that makes `room-agent start` refuse a config that passed the
// schema, as a list of issues with file, line and key. The agent runs these
// before it opens anything and refuses with the list; `check-config` runs the
// same functions, so a file check-config calls OK is one start accepts.
//
// The refusals, by where start makes them (src/app.ts and the features):
//   - schema and ${ENV}                      src/config/load.ts (loadConfig)
//   - [agent] listen: host:port, port range   here (http.listen would throw a bare Node error)
//   - [agent] data_dir: not a directory       here (the store cannot open its file)
//   - [[agent.tokens]] token_file too short  here (src/api/token-files.ts)
//   - [calendar] sources / time_zone          src/calendar/index.ts calendarProblems
//   - [director] unknown devices, channels    src/director/feature.ts directorProblems
//   - [identity] without [tracking]           src/identity/index.ts identityProblems
// Devices never stop the agent (a bad device config leaves that device in
// `error`); check-config reports those too, see device-checks.ts.
import fs from 'node:fs';
import path from 'node:path';
import { calendarProblems } from '../calendar/index.js';
import type { CalendarSection } from '../calendar/config.js';
import type { DirectorSection } from '../director/config.js';
import { directorProblems } from '../director/feature.js';
import type { DriverRegistry } from '../host/registry.js';
import { identityProblems } from '../identity/index.js';
import type { ConfigIssue, LoadedConfig } from './load.js';
import { lineOf } from './locate.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`; null with the reason when it is not a usable listen address. */
export function parseListen(listen: string): ListenAddress | { error: string } {
  const i = listen.lastIndexOf(':');
  if (i < 0) return { error: 'expected host:port, e.g. "127.0.0.1:8080"' };
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const portText = listen.slice(i + 1);
  if (!host) return { error: 'expected host:port with a host, e.g. "0.0.0.0:8080"' };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    return { error: `port ${JSON.stringify(portText)} is out of range (expected 0–65535)` };
  }
  return { host, port: Number(portText) };
}

/** The refusals `start` makes after the schema, as issues pointing into the file. */
export function startRefusals(loaded: LoadedConfig, registry: DriverRegistry): ConfigIssue[] {
  const { config, file, lines } = loaded;
  const issues: ConfigIssue[] = [];
  const add = (p: string[], message: string) => issues.push({ file, line: lineOf(lines, p), key: p.join('.'), message });

  const listen = parseListen(config.agent.listen);
  if ('error' in listen) add(['agent', 'listen'], listen.error);

  const baseDir = path.dirname(file);
  const dataDir = path.resolve(baseDir, config.agent.data_dir);
  if (fs.existsSync(dataDir) && !fs.statSync(dataDir).isDirectory()) {
    add(['agent', 'data_dir'], `${dataDir} exists and is not a directory`);
  }

  config.agent.tokens.forEach((t, i) => {
    if (t.token_file === undefined) return;
    const tokenFile = path.resolve(baseDir, t.token_file);
    if (!fs.existsSync(tokenFile)) return; // start generates it
    let text: string;
    try {
      text = fs.readFileSync(tokenFile, 'utf8');
    } catch (e) {
      add(['agent', 'tokens', String(i), 'token_file'], `cannot read ${tokenFile}: ${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    if (text.trim().length < 16) {
      add(['agent', 'tokens', String(i), 'token_file'], `the token in ${tokenFile} is shorter than 16 characters`);
    }
  });

  const deviceIds = Object.keys(config.devices);
  const calendarDevices = deviceIds.filter((id) => registry.get(config.devices[id]?.driver ?? '')?.kind === 'calendar');
  for (const p of calendarProblems((config as { calendar?: CalendarSection }).calendar, calendarDevices, config.agent.timezone)) {
    add(p.path, p.message);
  }
  const director = (config as { director?: DirectorSection }).director;
  if (director) for (const p of directorProblems(director, deviceIds)) add(['director', ...p.path], p.message);
  for (const p of identityProblems(config)) add(p.path, p.message);
  return issues;
}
