import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/index.js';
import { ConfigError, formatIssue, loadConfig, parseConfig } from '../src/config/load.js';
import { DriverRegistry } from '../src/host/registry.js';
import { lineDriver } from './support/line-driver.js';

const registry = new DriverRegistry([...builtinDrivers, lineDriver]);
const HEAD = `[agent]
room_id = "r1"
`;

function issues(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'api.toml', registry, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue);
    throw e;
  }
  return [];
}

// Each malformed file and what the message must say: file, line, key, found/expected.
const CASES: { name: string; text: string; expect: RegExp[] }[] = [
  {
    name: 'TOML syntax error',
    text: `${HEAD}listen = "127.0.0.1:80\n`,
    expect: [/^api\.toml:3: TOML syntax error/],
  },
  {
    name: 'unknown top-level section',
    text: `${HEAD}\n[agnet]\nroom_id = "x"\n`,
    expect: [/^api\.toml:4: agnet: unknown key/],
  },
  {
    name: 'unknown key in [agent]',
    text: `${HEAD}lissen = "0.0.0.0:80"\n`,
    expect: [/^api\.toml:3: agent\.lissen: unknown key/],
  },
  {
    name: 'wrong type',
    text: `${HEAD}action_timeout_ms = "fast"\n`,
    expect: [/^api\.toml:3: agent\.action_timeout_ms: expected integer, found string "fast"/],
  },
  {
    name: 'out of range',
    text: `${HEAD}action_timeout_ms = 5\n`,
    expect: [/^api\.toml:3: agent\.action_timeout_ms: must be >= 100, found 5/],
  },
  {
    name: 'missing required key',
    text: `[agent]\nlisten = "127.0.0.1:1"\n`,
    expect: [/^api\.toml:1: agent\.room_id: required key is missing/],
  },
  {
    name: 'bad role in a token table',
    text: `${HEAD}\n[[agent.tokens]]\nname = "x"\ntoken = "0123456789abcdef"\nrole = "god"\n\n[[agent.tokens]]\nname = "y"\ntoken = "short"\nrole = "viewer"\n`,
    expect: [
      /^api\.toml:7: agent\.tokens\.0\.role: /,
      /^api\.toml:11: agent\.tokens\.1\.token: must NOT have fewer than 16 characters/,
    ],
  },
  {
    name: 'unknown driver',
    text: `${HEAD}\n[devices.cam]\ndriver = "visca-pro"\n`,
    expect: [/^api\.toml:5: devices\.cam\.driver: unknown driver "visca-pro"; expected one of: .*line-test/],
  },
  {
    name: 'unknown key in a device',
    text: `${HEAD}\n[devices.d1]\ndriver = "line-test"\nhots = "10.0.0.1"\n`,
    expect: [/^api\.toml:6: devices\.d1\.hots: unknown key/],
  },
  {
    name: 'device key of the wrong type',
    text: `${HEAD}\n[devices.d1]\ndriver = "line-test"\nport = "5678"\n`,
    expect: [/^api\.toml:6: devices\.d1\.port: expected integer, found string "5678"/],
  },
  {
    name: 'device port out of range',
    text: `${HEAD}\n[devices.d1]\ndriver = "line-test"\nport = 70000\n`,
    expect: [/^api\.toml:6: devices\.d1\.port: must be <= 65535, found 70000/],
  },
  {
    name: 'missing environment variable',
    text: `${HEAD}\n[[agent.tokens]]\nname = "x"\ntoken = "\${ROOM_TOKEN}"\nrole = "admin"\n`,
    expect: [/^api\.toml:6: agent\.tokens\.0\.token: environment variable ROOM_TOKEN is not set/],
  },
  {
    name: 'bad device id',
    text: `${HEAD}\n[devices."cam 1"]\ndriver = "line-test"\n`,
    expect: [/^api\.toml:4: devices\.cam 1: /],
  },
  {
    name: 'listen without a port',
    text: `${HEAD}listen = "localhost"\n`,
    expect: [/^api\.toml:3: agent\.listen: must match pattern/],
  },
];

describe('config errors name file, line and key', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = issues(c.text);
      for (const re of c.expect)
        expect(
          got.some((g) => re.test(g)),
          `${re} in\n${got.join('\n')}`,
        ).toBe(true);
    });
  }

  it('reports every error at once, not just the first', () => {
    const got = issues(`${HEAD}lissen = 1\naction_timeout_ms = "x"\n\n[devices.d1]\ndriver = "line-test"\nport = -1\n`);
    expect(got.length).toBeGreaterThanOrEqual(3);
  });

  it('a value from the environment is used, and hidden in errors', () => {
    const ok = parseConfig(
      `${HEAD}\n[[agent.tokens]]\nname = "x"\ntoken = "\${ROOM_TOKEN}"\nrole = "admin"\n`,
      'api.toml',
      registry,
      { ROOM_TOKEN: 'from-the-environment-123' },
    );
    expect(ok.config.agent.tokens[0].token).toBe('from-the-environment-123');
    const bad = issues(`${HEAD}\n[[agent.tokens]]\nname = "x"\ntoken = "\${ROOM_TOKEN}"\nrole = "admin"\n`, {});
    expect(bad.join('\n')).not.toContain('from-the-environment');
    let msg = '';
    try {
      parseConfig(`${HEAD}\n[[agent.tokens]]\nname = "x"\ntoken = "\${SHORT}"\nrole = "admin"\n`, 'api.toml', registry, {
        SHORT: 'sekrit',
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/agent\.tokens\.0\.token/);
    expect(msg).not.toContain('sekrit');
  });

  it('applies defaults', () => {
    const ok = parseConfig(`${HEAD}\n[devices.d1]\ndriver = "line-test"\n`, 'api.toml', registry);
    expect(ok.config.agent.listen).toBe('127.0.0.1:8080');
    expect(ok.config.devices.d1.timeout_ms).toBe(1000);
  });

  it('names the file it could not read', () => {
    expect(() => loadConfig('/nonexistent/api.toml', registry)).toThrow(/\/nonexistent\/api\.toml: cannot read/);
  });

  it('the shipped demo api.toml is valid', () => {
    const file = path.join(import.meta.dirname, '..', 'api.toml');
    expect(() => loadConfig(file, registry)).not.toThrow();
  });

  it('check-config prints OK or every error and sets the exit code', async () => {
    const { main } = await import('../src/cli.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const bad = path.join(dir, 'bad.toml');
    fs.writeFileSync(bad, `${HEAD}lissen = 1\n`);
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errs.push(m);
    try {
      expect(await main(['check-config', bad])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errs.join('\n')).toMatch(/bad\.toml:3: agent\.lissen: unknown key/);
  });
});

describe('token files', () => {
  it('exactly one of token and token_file', () => {
    const got = issues(`${HEAD}\n[[agent.tokens]]\nname = "x"\nrole = "admin"\n`);
    expect(got.join('\n')).toMatch(/api\.toml:4: agent\.tokens\.0: give exactly one of token or token_file/);
  });

  it('a missing token file is generated once (mode 0600) and its path, not the token, is logged', async () => {
    const { resolveTokenFiles } = await import('../src/api/token-files.js');
    const pino = (await import('pino')).default;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-'));
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const cfg = [{ name: 'admin', role: 'admin' as const, token_file: 'secrets/admin.token' }];
    const [first] = resolveTokenFiles(cfg, dir, logger);
    const file = path.join(dir, 'secrets/admin.token');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.token.length).toBeGreaterThanOrEqual(16);
    expect(lines.join('')).toContain(file);
    expect(lines.join('')).not.toContain(first.token);
    const [again] = resolveTokenFiles(cfg, dir, logger);
    expect(again.token).toBe(first.token);
  });
});
