import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { type ActionDefinition, defineAction } from '../../src/host/contract.js';
import { formatIssue } from '../../src/config/load.js';
import { type DeviceCatalog, findCycles, loadScenarios } from '../../src/scenarios/load.js';

const recall = defineAction({
  description: 'recall',
  params: Type.Object(
    { preset: Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.String()]) },
    { additionalProperties: false },
  ),
  run: async () => null,
});
const catalog: DeviceCatalog = {
  ids: () => ['cam-1', 'cam-2', 'matrix'],
  kind: (id) => (id.startsWith('cam') ? 'camera' : 'matrix'),
  actions: (id) => (id.startsWith('cam') ? { 'preset.recall': recall } : { route: recall }) as Record<string, ActionDefinition>,
};

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scn-'));
  for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
  return dir;
}
const messages = (files: Record<string, string>) => {
  const dir = folder(files);
  return loadScenarios([dir], catalog).issues.map((i) => formatIssue({ ...i, file: path.basename(i.file) }));
};

describe('scenario files', () => {
  it('loads a valid file with defaults', () => {
    const dir = folder({
      'a.toml': 'name = "a"\n\n[[steps]]\ndevice = "cam-1"\naction = "preset.recall"\nparams = { preset = 3 }\n',
    });
    const { scenarios, issues } = loadScenarios([dir], catalog);
    expect(issues).toEqual([]);
    expect(scenarios.get('a')).toMatchObject({ mode: 'single', max_runs: 10, triggers: [] });
  });

  it('an unknown device, action or parameter names the file and line', () => {
    const got = messages({
      'bad.toml': [
        'name = "bad"',
        '',
        '[[steps]]',
        'device = "cam-9"',
        'action = "preset.recall"',
        '',
        '[[steps]]',
        'device = "cam-1"',
        'action = "preset.recal"',
        '',
        '[[steps]]',
        'device = "cam-1"',
        'action = "preset.recall"',
        'params = { preset = 3, speed = 2 }',
        '',
      ].join('\n'),
    });
    expect(got).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.toml:4: steps\.0\.device: unknown device "cam-9"/),
        expect.stringMatching(/^bad\.toml:9: steps\.1\.action: device cam-1 has no action "preset\.recal"/),
        expect.stringMatching(/^bad\.toml:14: steps\.2\.params: .*speed: unknown key/),
      ]),
    );
  });

  it('schema errors (unknown key, bad mode) are located', () => {
    const got = messages({ 'x.toml': 'name = "x"\nmode = "sometimes"\ncolour = 1\n\n[[steps]]\nwait_ms = 1\n' });
    expect(got.some((g) => /^x\.toml:3: colour: unknown key/.test(g))).toBe(true);
    expect(got.some((g) => /^x\.toml:2: mode:/.test(g))).toBe(true);
  });

  it('a step must do exactly one thing', () => {
    const got = messages({ 'x.toml': 'name = "x"\n\n[[steps]]\nwait_ms = 1\nscenario = "y"\n' });
    expect(got[0]).toMatch(/^x\.toml:3: steps\.0: a step does exactly one thing/);
  });

  it('cycles of scenario calls are rejected at load', () => {
    const got = messages({
      'a.toml': 'name = "a"\n[[steps]]\nscenario = "b"\n',
      'b.toml': 'name = "b"\n[[steps]]\nscenario = "c"\n',
      'c.toml': 'name = "c"\n[[steps]]\nscenario = "a"\n',
      'self.toml': 'name = "self"\n[[steps]]\nloop = { count = 2, steps = [{ scenario = "self" }] }\n',
    });
    expect(got.filter((g) => /cycle/.test(g))).toHaveLength(2);
    expect(got.join('\n')).toMatch(/a → b → c → a/);
    expect(got.join('\n')).toMatch(/self → self/);
  });

  it('unknown called scenario and duplicate names', () => {
    const got = messages({
      'a.toml': 'name = "a"\n[[steps]]\nscenario = "nope"\n',
      'b.toml': 'name = "a"\n[[steps]]\nwait_ms = 1\n',
    });
    expect(got.join('\n')).toMatch(/unknown scenario "nope"/);
    expect(got.join('\n')).toMatch(/b\.toml:1: name: scenario "a" is already defined/);
  });

  it('a selector that matches nothing, and trigger devices, are checked', () => {
    const got = messages({
      'a.toml':
        'name = "a"\n[[triggers]]\ntype = "mic"\ndevice = "mic-9"\n\n[[steps]]\ndevices = { kind = "mixer" }\naction = "cut"\n',
    });
    expect(got.join('\n')).toMatch(/no device matches/);
    expect(got.join('\n')).toMatch(/unknown device "mic-9"/);
  });

  it('findCycles finds none in a DAG', () => {
    const mk = (name: string, calls: string[]) => ({
      name,
      mode: 'single' as const,
      max_runs: 1,
      triggers: [],
      file: '',
      steps: calls.map((c) => ({ scenario: c })),
    });
    expect(
      findCycles(
        new Map([
          ['a', mk('a', ['b', 'c'])],
          ['b', mk('b', ['c'])],
          ['c', mk('c', [])],
        ]),
      ),
    ).toEqual([]);
  });
});
