#!/usr/bin/env node
// room-agent command line: start | check-config | simulate | version.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage } from './util/errors.js';
import { StopSignals } from './util/stop-signals.js';
import { VERSION } from './version.js';

// Only light modules are imported above: `start` installs its signal handlers before it loads
// the agent (fastify, SQLite, every driver), so a SIGTERM during that ~0.5 s is handled — it
// used to kill the process by the default action. Each command loads what it needs.

const DEFAULT_CONFIG = process.env.ROOM_AGENT_CONFIG ?? 'api.toml';

const HELP: Record<string, string> = {
  main: `room-agent ${VERSION} — the meeting-room edge agent

Usage: room-agent <command> [options]

Commands:
  start [--config FILE]            run the agent (default config: ${DEFAULT_CONFIG})
  check-config [FILE]              validate api.toml (and scenarios); prints OK or every error
  simulate <driver> [key=value…]   run a device simulator for commissioning
  version                          print the version

Run 'room-agent <command> --help' for a command's options.`,
  start: `Usage: room-agent start [--config FILE]

Loads FILE (default ${DEFAULT_CONFIG}, or $ROOM_AGENT_CONFIG), starts the API,
every device (simulators for 'simulated = true') and the feature modules.
Stops cleanly on SIGTERM/SIGINT. SIGHUP (and a change of FILE on disk) re-reads
FILE and applies what changed; an invalid file is refused and the running config stays.`,
  'check-config': `Usage: room-agent check-config [FILE]

Validates FILE (default ${DEFAULT_CONFIG}). Prints OK, or one line per error
as FILE:LINE: key: what was found and what was expected. Exit code 1 on error.`,
  simulate: `Usage: room-agent simulate <driver> [--host ADDR] [--port N] [--path DEV] [key=value…]

Runs the driver's protocol-faithful simulator until Ctrl-C, so a room can be
commissioned before the hardware arrives. key=value pairs set driver config
keys (numbers and true/false are converted). Default: 127.0.0.1 on a free port.
Drivers with a simulator: {SIMULATORS}`,
  version: 'Usage: room-agent version\n\nPrints the version.',
};

/** How the process was launched (src/launcher.ts): the compile cache directory in use, if any. */
export interface LaunchInfo {
  compileCache?: string | null;
  /** Stops recording signals in the launcher; returns the one that came while the bundle loaded, if any. */
  takeEarlySignal?: () => NodeJS.Signals | null;
  /**
   * Called once `start` is ready and the lines logged so far are written (the launcher writes the compile
   * cache then, not only at exit, and collects start's garbage).
   */
  afterReady?: () => void;
}

async function main(argv: string[], launch: LaunchInfo = {}): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP.main);
    return cmd ? 0 : 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    if (!HELP[cmd]) return unknownCommand(cmd);
    console.log(HELP[cmd].includes('{SIMULATORS}') ? HELP[cmd].replace('{SIMULATORS}', await simulatorNames()) : HELP[cmd]);
    return 0;
  }
  switch (cmd) {
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case 'check-config':
      return checkConfig(rest);
    case 'start':
      return start(rest, launch);
    case 'simulate':
      return simulate(rest);
    default:
      return unknownCommand(cmd);
  }
}

function unknownCommand(cmd: string): number {
  console.error(`room-agent: unknown command "${cmd}"\n\n${HELP.main}`);
  return 2;
}

async function simulatorNames(): Promise<string> {
  const { builtinDrivers } = await import('../drivers/index.js');
  return builtinDrivers
    .filter((d) => d.simulate)
    .map((d) => d.name)
    .join(', ');
}

async function checkConfig(args: string[]): Promise<number> {
  const file = args[0] ?? DEFAULT_CONFIG;
  const [
    { builtinDrivers },
    { ConfigError, formatIssue, loadConfig },
    { DriverRegistry },
    { runExtraChecks },
    { listenProblems },
  ] = await Promise.all([
    import('../drivers/index.js'),
    import('./config/load.js'),
    import('./host/registry.js'),
    import('./config/extra-checks.js'),
    import('./config/start-checks.js'),
  ]);
  const registry = new DriverRegistry(builtinDrivers);
  try {
    const loaded = loadConfig(file, registry);
    // The listen address is tried on this machine too (only here: a reload's checks run inside the agent that holds it).
    const problems = [...runExtraChecks(loaded, registry), ...(await listenProblems(loaded))];
    if (problems.length) {
      for (const p of problems) console.error(formatIssue(p));
      return 1;
    }
    console.log('OK');
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const i of e.issues) console.error(formatIssue(i));
      return 1;
    }
    console.error(`${file}: ${errorMessage(e)}`);
    return 1;
  }
}

async function start(args: string[], launch: LaunchInfo): Promise<number> {
  // First, before anything slow: a SIGTERM from here on stops the agent cleanly.
  const signals = new StopSignals();
  signals.install();
  // SIGHUP re-reads the config file (docs/config.md "Reloading"); before the agent runs it is ignored.
  let reloadOnHup: (() => void) | null = null;
  process.on('SIGHUP', () => reloadOnHup?.());
  if (launch.takeEarlySignal?.()) return 0; // stopped while the launcher loaded the bundle: nothing was opened
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, allowPositionals: false });
  const file = values.config ?? DEFAULT_CONFIG;
  const [{ Agent }, { ConfigError, formatIssue }, { installLastResortHandler }, { SystemdNotifier }, { flushStdoutLogs }] =
    await Promise.all([
      import('./app.js'),
      import('./config/load.js'),
      import('./util/last-resort.js'),
      import('./util/sd-notify.js'),
      import('./util/log-destination.js'),
    ]);
  // Log lines still queued go out before exit, but never for longer than this: a reader that
  // went away must not hold the process (docs/install.md "Stopping").
  const exit = (code: number): never => {
    flushStdoutLogs(500);
    process.exit(code);
  };
  signals.onForce(() => exit(1));
  if (signals.requested) return 0; // stopped while loading: nothing was opened yet
  let agent: InstanceType<typeof Agent>;
  try {
    agent = new Agent({ configFile: file });
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const i of e.issues) console.error(formatIssue(i));
      console.error(`room-agent: not started; fix ${file} (room-agent check-config ${file})`);
      return 1;
    }
    console.error(`room-agent: cannot start: ${errorMessage(e)}`);
    return 1;
  }
  // Errors that escape every handler: a peer's keep the agent serving, its own end it for systemd to restart.
  installLastResortHandler(agent.logger, { exit });
  const systemd = SystemdNotifier.fromEnv(process.env, agent.logger);
  // Runs at once when a signal came while the agent was being built; a second signal exits at once.
  signals.onStop((signal) => {
    agent.logger.info({ signal }, 'stopping');
    systemd?.stopping();
    const force = setTimeout(() => {
      agent.logger.error({ after_ms: 10_000 }, 'stop took too long; exiting anyway');
      exit(1);
    }, 10_000);
    force.unref();
    agent.stop().then(
      () => exit(0),
      (e) => {
        agent.logger.error({ err: errorMessage(e) }, 'stop failed');
        exit(1);
      },
    );
  });
  try {
    const address = await agent.start();
    systemd?.ready(`serving ${address}`);
    // From here SIGHUP re-reads the file (before, the start is reading it anyway).
    reloadOnHup = () => {
      agent.logger.info('SIGHUP: re-reading the config file');
      systemd?.reloading();
      void agent.fileReloader.reload('sighup').then((out) => systemd?.ready(`serving ${address}; config reload ${out.status}`));
    };
    agent.logger.info(
      { dir: launch.compileCache ?? null, node: process.version },
      launch.compileCache ? 'compile cache on' : 'compile cache off',
    );
    // Once the lines above are out (the ready line first), so nothing the launcher does delays them.
    if (launch.afterReady) agent.logger.flush(launch.afterReady);
  } catch (e) {
    // Stopped during start: the stop handler tears down and exits.
    if (signals.requested) return new Promise<number>(() => undefined);
    if (e instanceof ConfigError) {
      for (const i of e.issues) console.error(formatIssue(i));
      console.error(`room-agent: not started; fix ${file} (room-agent check-config ${file})`);
    }
    agent.logger.fatal({ err: errorMessage(e) }, 'start failed');
    await agent.stop().catch(() => undefined);
    flushStdoutLogs(500);
    return 1;
  }
  return new Promise<number>(() => undefined); // runs until a signal
}

async function simulate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { host: { type: 'string' }, port: { type: 'string' }, path: { type: 'string' } },
    allowPositionals: true,
  });
  const [name, ...pairs] = positionals;
  const [{ builtinDrivers }, { Value }, { createLogger }] = await Promise.all([
    import('../drivers/index.js'),
    import('@sinclair/typebox/value'),
    import('./util/logger.js'),
  ]);
  const def = builtinDrivers.find((d) => d.name === name);
  if (!def?.simulate) {
    console.error(
      `room-agent simulate: no simulator for "${name ?? ''}"\n\n${HELP.simulate?.replace('{SIMULATORS}', await simulatorNames())}`,
    );
    return 2;
  }
  const cfg: Record<string, unknown> = Value.Default(def.config, {}) as Record<string, unknown>;
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) {
      console.error(`room-agent simulate: expected key=value, got "${p}"`);
      return 2;
    }
    const raw = p.slice(i + 1);
    cfg[p.slice(0, i)] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const sim = await def.simulate(cfg as never, {
    logger,
    id: `sim-${name}`,
    host: values.host,
    port: values.port ? Number(values.port) : undefined,
    path: values.path,
  });
  console.log(JSON.stringify({ simulator: name, endpoint: sim.endpoint }));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}

// Run when this file is the entry (tsx src/cli.ts, dist/src/cli.js, also through
// a symlink), not when imported: by tests, or as the bundle by src/launcher.ts.
const entry = process.argv[1] ? fs.realpathSync(path.resolve(process.argv[1])) : '';
if (entry === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`room-agent: ${errorMessage(e)}`);
      process.exitCode = 1;
    },
  );
}

export { main };
