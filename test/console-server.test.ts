// The agent serves the built console: index.html with a same-origin CSP,
// hashed assets, nothing outside the build folder, and a clear page when the
// console was never built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { features } from '../src/features.js';
import { consoleFrom, createConsole } from '../src/console/index.js';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { typecheckConsole } from '../scripts/build-console.js';
import { buildConsoleToTemp, featuresServing } from './console-helpers.js';

let built: TestAgent;
let bare: TestAgent;
let dir: string;
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'console-empty-'));

beforeAll(async () => {
  dir = await buildConsoleToTemp();
  built = await startTestAgent('', { features: featuresServing(dir) });
  bare = await startTestAgent('', { features: [...features.filter((f) => f !== createConsole), consoleFrom(empty)] });
});
afterAll(async () => {
  await built?.stop();
  await bare?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
});

describe('console assets', () => {
  it('GET / answers the page with a same-origin Content-Security-Policy and no token needed', async () => {
    const res = await fetch(`${built.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    const html = await res.text();
    const js = /src="\/console\/(app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const css = /href="\/console\/(style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();
    // Everything the page loads is local: no http(s) URL in the page or its bundle.
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${built.url}/console/${js}`);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(bundle.headers.get('cache-control')).toContain('immutable');
    const code = await bundle.text();
    expect(code).toContain('room-agent.token');
    expect(code).not.toMatch(/<script[^>]+src="https?:/);
    const style = await fetch(`${built.url}/console/${css}`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves only files of the build folder', async () => {
    for (const p of ['/console/..%2Fpackage.json', '/console/%2E%2E%2Fapi.toml', '/console/nope.js', '/console/index']) {
      const res = await fetch(`${built.url}${p}`);
      expect(res.status, p).toBe(404);
    }
  });

  it('without a build, / explains how to build it (503) and the API still works', async () => {
    const res = await fetch(`${bare.url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
    const health = await fetch(`${bare.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('console sources', () => {
  it('typecheck against their own tsconfig (DOM, Preact JSX, the client module)', () => {
    expect(() => typecheckConsole()).not.toThrow();
  });
});
