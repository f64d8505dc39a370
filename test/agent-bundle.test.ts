// The artifact `npm start` and the .deb run: src/cli.ts bundled by
// scripts/build-agent.ts. Bundling can break what works under tsx (a dynamic
// require, a path relative to a module's own file), so the bundle is built
// here and run for real on the demo api.toml with package.json's node flags.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentEnv, agentNodeFlags, buildAgent, builtinModuleSource } from '../scripts/build-agent.js';
import { READY_BOUND_MS, startChildAgent } from './support/child-agent.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// Same depth below the package root as dist/agent/, where package.json is looked up.
const OUT = path.join(ROOT, 'build', 'bundle-test', 'cli.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const FLAGS = agentNodeFlags();

// The build runs the demo agent once (scripts/ajv-standalone.ts collects its params schemas).
beforeAll(async () => {
  await buildAgent(OUT);
}, 120_000);
afterAll(() => fs.rmSync(path.dirname(OUT), { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [...FLAGS, OUT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('the bundled agent (dist/agent/cli.js)', () => {
  it('node accepts the flags of package.json config.node_flags', () => {
    const r = spawnSync(process.execPath, [...FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs with one malloc arena and 32 KB blocks by mmap unless the environment says otherwise (package.json config)', () => {
    expect(agentEnv()).toEqual({
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '1',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '32768',
    });
  });

  it('loads Node built-ins with require, not as ES modules (an ES import of node:http loads undici)', () => {
    // scripts/build-agent.ts builtinsByRequirePlugin; docs/performance.md, "Start and idle memory: lean start".
    const code = fs.readFileSync(path.join(path.dirname(OUT), 'agent.js'), 'utf8');
    expect(code.match(/\bfrom\s*"node:[^"]+"/g) ?? []).toEqual([]);
    expect(code.match(/\bimport\s*\(\s*"node:[^"]+"\s*\)/g) ?? []).toEqual([]);
    expect(code).toContain('require("node:http")');
  });

  it('binds imports of built-ins once, without a copy of the module per importing file', () => {
    // A CommonJS stand-in made esbuild's __toESM copy every property of the module into a fresh
    // object of getters in each importing file (110 copies, ~0.9 MB of idle heap); the ES stand-in
    // exports the module and each imported name once (scripts/build-agent.ts builtinModuleSource).
    const code = fs.readFileSync(path.join(path.dirname(OUT), 'agent.js'), 'utf8');
    expect(code.match(/__toESM\(require_node_\w+\(\)/g) ?? []).toEqual([]);
    expect(builtinModuleSource('node:http')).toMatch(/^export const WebSocket = \/\* @__PURE__ \*\/ /m);
  });

  it('leaves nodemailer out, loaded at the first e-mailed code (a room that sends none never loads it)', () => {
    const code = fs.readFileSync(path.join(path.dirname(OUT), 'agent.js'), 'utf8');
    expect(code).toContain('import("nodemailer")');
    expect(code).not.toMatch(/\bfrom\s*"nodemailer"/);
    expect(code).not.toContain('SMTPConnection');
  });

  it('is ASCII only: one character beyond it makes V8 hold the whole 3.6 MB source as two bytes a character', () => {
    // Licence comments go to agent.js.LEGAL.txt (one quoted "Wärting" doubled the heap's copy of the source).
    const code = fs.readFileSync(path.join(path.dirname(OUT), 'agent.js'), 'latin1');
    expect(code.match(/[^\x00-\x7f][^\n]{0,40}/g) ?? []).toEqual([]);
  });

  it('prints the package version and checks the demo config', () => {
    expect(cli('version').stdout.trim()).toContain(pkg.version);
    const check = cli('check-config', path.join(ROOT, 'api.toml'));
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/OK/);
    expect(check.status).toBe(0);
  });

  it('starts the demo room on its simulators, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-demo-'));
    const demo = fs
      .readFileSync(path.join(ROOT, 'api.toml'), 'utf8')
      .replace(/^listen = "[^"]+"/m, 'listen = "127.0.0.1:0"')
      .replace(/^data_dir = "[^"]+"/m, `data_dir = "${dir}/data"`);
    fs.writeFileSync(path.join(dir, 'api.toml'), demo);
    // Which of Node's built-in modules the room loaded, written when it exits.
    const loaded = path.join(dir, 'modules.txt');
    const recorder = path.join(dir, 'record-modules.cjs');
    fs.writeFileSync(
      recorder,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));`,
    );
    const cache = path.join(dir, 'data', 'compile-cache');
    const cacheFiles = () =>
      fs.existsSync(cache)
        ? fs.readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(cache, f)).isFile())
        : [];
    // Resolves at `room-agent ready`, rejects if the bundle exits or stalls first.
    const agent = await startChildAgent(path.join(dir, 'api.toml'), agentEnv(), READY_BOUND_MS, [
      '--require',
      recorder,
      ...FLAGS,
      OUT,
    ]);
    try {
      const health = (await (await fetch(`${agent.url}/healthz`)).json()) as { devices: Record<string, string> };
      expect(Object.keys(health.devices)).toEqual(expect.arrayContaining(['cam-1', 'matrix', 'mixer', 'audio']));
      let devices: Record<string, string> = {};
      // Bounded by time, not by a count of polls (a loaded machine answers each poll slowly).
      const end = Date.now() + 30_000;
      while (!(devices['cam-1'] === 'online' && devices.outlook === 'online') && Date.now() < end) {
        devices = ((await (await fetch(`${agent.url}/healthz`)).json()) as { devices: Record<string, string> }).devices;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(devices).toMatchObject({ 'cam-1': 'online', outlook: 'online' });
      expect(agent.output()).not.toMatch(/"level":(50|60)/); // no error or fatal log line
      expect(agent.output()).toContain(`"dir":"${dir}/data/compile-cache"`);
      // The compiled bundle is on disk while the agent runs (written once ready, not only at a
      // clean stop): a room PC that loses power still boots from the cache next time.
      const bundleCached = () => cacheFiles().some((f) => fs.statSync(path.join(cache, f)).size > 100_000);
      for (const end = Date.now() + 10_000; !bundleCached() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
      expect(bundleCached()).toBe(true);
    } finally {
      expect(await agent.kill('SIGTERM')).toBe(0);
      // Node writes the compiled bundle to the cache under the data dir; the next start reads it.
      const files = cacheFiles();
      const modules = fs.readFileSync(loaded, 'utf8').split('\n');
      fs.rmSync(dir, { recursive: true, force: true });
      expect(files.length).toBeGreaterThan(0);
      // fastify requires node:http2 at its top for `http2: true` servers; the agent has none, and the
      // module costs ~1 MB of idle RSS (scripts/build-agent.ts LAZY_BUILTINS).
      expect(modules).toContain('NativeModule http');
      expect(modules.filter((m) => /^NativeModule (http2|internal\/http2\/)/.test(m))).toEqual([]);
      // node:http's WebSocket, CloseEvent and MessageEvent are getters that load undici: no import reads them.
      expect(modules.filter((m) => /^NativeModule internal\/deps\/undici\//.test(m))).toEqual([]);
    }
    // A bound, not a measurement: the start (READY_BOUND_MS, 60 s) plus 30 s for the devices, and the stop.
  }, 120_000);
});
