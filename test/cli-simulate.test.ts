// `room-agent simulate <driver>` runs a protocol-faithful simulator for
// commissioning: here a VISCA camera on raw TCP answers a power inquiry.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('room-agent simulate', () => {
  it('runs a VISCA camera simulator that answers on the wire, and stops on SIGTERM', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'simulate', 'visca', 'framing=raw-tcp'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const endpoint = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      // A hang's bound: the CLI starts through tsx, which alone can take a minute on a loaded machine.
      const t = setTimeout(() => reject(new Error(`no endpoint line:\n${out}`)), 90_000);
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /\{"simulator":"visca","endpoint":(\{[^}]*\})\}/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(JSON.parse(m[1]));
        }
      });
    });
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(endpoint.port, endpoint.host, () => s.write(Buffer.from([0x81, 0x09, 0x04, 0x00, 0xff])));
      s.on('data', (d) => {
        resolve(d);
        s.destroy();
      });
      s.on('error', reject);
    });
    expect([...reply]).toEqual([0x90, 0x50, 0x02, 0xff]); // power inquiry: on
    const code = await new Promise<number | null>((resolve) => {
      proc.once('exit', (c) => resolve(c));
      proc.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 120_000);

  it('refuses a driver without a simulator, listing the ones that have one', async () => {
    const { main } = await import('../src/cli.js');
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errs.push(m);
    try {
      expect(await main(['simulate', 'atem'])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errs.join('\n')).toMatch(/no simulator for "atem"[\s\S]*visca/);
  });
});
