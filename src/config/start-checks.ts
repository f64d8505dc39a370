// Everything that makes `room-agent start` refuse a config that passed the
// schema, as a list of issues with file, line and key. The agent runs these
// before it opens anything and refuses with the list; `check-config` runs the
// same functions, so a file check-config calls OK is one start accepts.
//
// The refusals, by where start makes them (src/app.ts and the features):
//   - schema and ${ENV}                      src/config/load.ts (loadConfig)
//   - [agent] listen: host:port, port range   here (http.listen would throw a bare Node error)
//   - [agent] data_dir: not a directory       here (the store cannot open its file)
//   - [agent] data_dir: room-agent.db written
//     by a newer agent (a module's schema
//     version ahead of this agent's)           here (src/store/db.ts migrate would throw)
//   - [[agent.tokens]] token_file too short  here (src/api/token-files.ts)
//   - [calendar] sources / time_zone          src/calendar/index.ts calendarProblems
//   - [director] unknown devices, channels    src/director/feature.ts directorProblems
//   - [identity] without [tracking]           src/identity/index.ts identityProblems
// One more refusal only check-config can see ahead, asynchronously
// (listenProblems): the API address is in use by another program, not on this
// machine, or needs privileges. A running room-agent on it is not reported (a
// restart frees it first), nor is it checked on a reload (the running agent
// holds the port itself).
// Devices never stop the agent (a bad device config leaves that device in
// `error`); check-config reports those too, see device-checks.ts.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { calendarProblems } from '../calendar/index.js';
import type { CalendarSection } from '../calendar/config.js';
import type { DirectorSection } from '../director/config.js';
import { directorProblems } from '../director/feature.js';
import type { DriverRegistry } from '../host/registry.js';
import { identityProblems } from '../identity/index.js';
import { KNOWN_SCHEMAS } from '../store/schemas.js';
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
  } else {
    for (const message of databaseProblems(path.join(dataDir, 'room-agent.db'))) add(['agent', 'data_dir'], message);
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

/**
 * What keeps the agent from opening its database: a module's tables at a schema
 * version this agent does not know (a newer agent wrote them), or a file that is
 * not a readable SQLite database. A missing file is fine (start creates it).
 */
export function databaseProblems(file: string, known: ReadonlyMap<string, number> = KNOWN_SCHEMAS): string[] {
  if (!fs.existsSync(file)) return [];
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
    if (!hasTable) return [];
    const rows = db.prepare('SELECT module, version FROM schema_version ORDER BY module').all() as {
      module: string;
      version: number;
    }[];
    const out: string[] = [];
    for (const r of rows) {
      const mine = known.get(r.module);
      if (mine === undefined) {
        out.push(
          `${file}: holds tables of module "${r.module}" (schema version ${r.version}) that this agent does not know: it was written by a newer room-agent — upgrade the agent or restore a backup (downgrades are not supported)`,
        );
      } else if (r.version > mine) {
        out.push(
          `${file}: module "${r.module}" is at schema version ${r.version}, this agent knows only ${mine}: it was written by a newer room-agent — upgrade the agent or restore a backup (downgrades are not supported)`,
        );
      }
    }
    return out;
  } catch (e) {
    return [`${file}: cannot be read as the agent's SQLite database (${(e as { code?: string }).code ?? (e as Error).message})`];
  } finally {
    db?.close();
  }
}

/** Why a listen failed, in the words `start` and `check-config` both use. */
export function listenFailure(listen: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why =
    code === 'EADDRINUSE'
      ? 'the address is in use (another agent running?)'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? 'no such address on this machine'
          : err instanceof Error
            ? err.message
            : String(err);
  return `cannot listen on ${listen}: ${why}`;
}

/**
 * check-config's look at `[agent] listen` on this machine: binds the address for
 * a moment the way start would. In use by a room-agent that answers /healthz is
 * not a problem (restarting it frees the port first); anything else start
 * would refuse is reported with file, line and key.
 */
export async function listenProblems(loaded: LoadedConfig): Promise<ConfigIssue[]> {
  const at = parseListen(loaded.config.agent.listen);
  if ('error' in at || at.port === 0) return [];
  const err = await new Promise<unknown>((resolve) => {
    const server = net.createServer();
    server.once('error', resolve);
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (err === null) return [];
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && (await servedByRoomAgent(at))) return [];
  return [
    {
      file: loaded.file,
      line: lineOf(loaded.lines, ['agent', 'listen']),
      key: 'agent.listen',
      message: listenFailure(loaded.config.agent.listen, err),
    },
  ];
}

/** Whether a room-agent answers /healthz at the address (2 s at most; the socket never outlives the look). */
function servedByRoomAgent(at: ListenAddress): Promise<boolean> {
  const host = at.host === '0.0.0.0' ? '127.0.0.1' : at.host === '::' ? '::1' : at.host;
  return new Promise((resolve) => {
    const req = http.get({ host, port: at.port, path: '/healthz', agent: false, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length > 65_536) req.destroy();
      });
      res.on('end', () => {
        try {
          const body = JSON.parse(text) as { status?: unknown; room_id?: unknown; version?: unknown };
          resolve(typeof body.room_id === 'string' && typeof body.version === 'string' && 'status' in body);
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.on('close', () => resolve(false));
  });
}
