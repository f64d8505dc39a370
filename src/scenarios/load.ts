import fs from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { ConfigIssue } from '../config/load.js';
import { lineOf, locateKeys, type LineMap } from '../config/locate.js';
import type { ActionDefinition, DeviceKind } from '../host/contract.js';
import { compileParams } from '../host/validate.js';
import { describeAjvError } from '../util/ajv.js';
import { validateScenarioFile } from '../config/validators.js';
import { packageRoot } from '../util/package-root.js';
import type { Scenario, Step } from './schema.js';

/** What the loader needs to know about the room's devices. */
export interface DeviceCatalog {
  ids(): string[];
  kind(id: string): DeviceKind | undefined;
  /** The device's actions, or null when they cannot be known (driver failed to build). */
  actions(id: string): Record<string, ActionDefinition> | null;
}

export interface LoadedScenarios {
  scenarios: Map<string, Scenario>;
  issues: ConfigIssue[];
}

/** The scenarios/ folder shipped with the package (found from the package root, built or not). */
export function shippedScenarioDir(): string {
  const dir = path.join(packageRoot(), 'scenarios');
  return fs.existsSync(dir) ? dir : path.resolve('scenarios');
}

/** Reads every *.toml of the folders and checks each against the room's devices. */
export function loadScenarios(folders: string[], devices: DeviceCatalog): LoadedScenarios {
  const issues: ConfigIssue[] = [];
  const scenarios = new Map<string, Scenario>();
  const where = new Map<string, { file: string; lines: LineMap }>();
  for (const folder of folders) {
    if (!fs.existsSync(folder)) {
      issues.push({ file: folder, key: '', message: 'scenario folder does not exist' });
      continue;
    }
    for (const name of fs
      .readdirSync(folder)
      .filter((f) => f.endsWith('.toml'))
      .sort()) {
      const file = path.join(folder, name);
      const text = fs.readFileSync(file, 'utf8');
      let raw: unknown;
      try {
        raw = parse(text);
      } catch (e) {
        const line = e instanceof TomlError ? e.line : undefined;
        issues.push({ file, line, key: '', message: `TOML syntax error: ${(e as Error).message.split('\n')[0]}` });
        continue;
      }
      const lines = locateKeys(text);
      const data = structuredClone(raw) as Record<string, unknown>;
      if (!validateScenarioFile(data)) {
        for (const err of validateScenarioFile.errors ?? []) {
          // Union branches (triggers) produce one error per branch; the first is enough per path.
          const p = err.instancePath.slice(1).split('/').filter(Boolean);
          const extra = (err.params as { additionalProperty?: string; missingProperty?: string }) ?? {};
          if (extra.additionalProperty) p.push(extra.additionalProperty);
          if (extra.missingProperty) p.push(extra.missingProperty);
          issues.push({ file, line: lineOf(lines, p), key: p.join('.'), message: describeAjvError(err).replace(/^[^:]*: /, '') });
        }
        continue;
      }
      const sc = { ...(data as unknown as Omit<Scenario, 'file'>), file };
      if (scenarios.has(sc.name)) {
        issues.push({
          file,
          line: lineOf(lines, ['name']),
          key: 'name',
          message: `scenario "${sc.name}" is already defined in ${scenarios.get(sc.name)?.file}`,
        });
        continue;
      }
      scenarios.set(sc.name, sc);
      where.set(sc.name, { file, lines });
    }
  }
  for (const sc of scenarios.values()) {
    const w = where.get(sc.name);
    if (!w) continue;
    const at = (p: (string | number)[]) => ({ file: w.file, line: lineOf(w.lines, p.map(String)), key: p.join('.') });
    checkSteps(sc.steps, ['steps'], scenarios, devices, at, issues);
    sc.triggers.forEach((t, i) => {
      const dev = t.type === 'mic' ? t.device : t.type === 'state' ? t.when.device : null;
      if (dev && !devices.ids().includes(dev)) {
        issues.push({ ...at(['triggers', i, t.type === 'mic' ? 'device' : 'when']), message: `unknown device "${dev}"` });
      }
    });
  }
  for (const cycle of findCycles(scenarios)) {
    const first = scenarios.get(cycle[0]);
    const w = first ? where.get(first.name) : undefined;
    issues.push({
      file: first?.file ?? '',
      line: w ? lineOf(w.lines, ['steps']) : undefined,
      key: 'steps',
      message: `scenario calls form a cycle: ${cycle.join(' → ')}`,
    });
  }
  return { scenarios, issues };
}

type At = (p: (string | number)[]) => { file: string; line: number | undefined; key: string };

const KINDS = ['action', 'wait_ms', 'parallel', 'scenario', 'director', 'loop'] as const;

function checkSteps(
  steps: Step[],
  base: (string | number)[],
  all: Map<string, Scenario>,
  devices: DeviceCatalog,
  at: At,
  issues: ConfigIssue[],
): void {
  steps.forEach((s, i) => {
    const here = [...base, i];
    const kinds = KINDS.filter((k) => (s as Record<string, unknown>)[k] !== undefined);
    if (kinds.length !== 1) {
      issues.push({
        ...at(here),
        message: `a step does exactly one thing: one of action, wait_ms, parallel, scenario, director, loop (found ${kinds.join(', ') || 'none'})`,
      });
      return;
    }
    if (s.if && !devices.ids().includes(s.if.device))
      issues.push({ ...at([...here, 'if']), message: `unknown device "${s.if.device}"` });
    switch (kinds[0]) {
      case 'action':
        checkAction(s, here, devices, at, issues);
        break;
      case 'parallel':
        checkSteps(s.parallel ?? [], [...here, 'parallel'], all, devices, at, issues);
        break;
      case 'loop':
        checkSteps(s.loop?.steps ?? [], [...here, 'loop', 'steps'], all, devices, at, issues);
        break;
      case 'scenario':
        if (s.scenario && !all.has(s.scenario))
          issues.push({ ...at([...here, 'scenario']), message: `unknown scenario "${s.scenario}"` });
        break;
    }
  });
}

/** The devices an action step addresses (one, a list, or every device of a kind). */
export function stepTargets(s: Step, devices: Pick<DeviceCatalog, 'ids' | 'kind'>): string[] {
  if (s.device) return [s.device];
  const sel = s.devices ?? {};
  return devices.ids().filter((id) => (!sel.ids || sel.ids.includes(id)) && (!sel.kind || devices.kind(id) === sel.kind));
}

function checkAction(s: Step, here: (string | number)[], devices: DeviceCatalog, at: At, issues: ConfigIssue[]): void {
  if ((s.device ? 1 : 0) + (s.devices ? 1 : 0) !== 1) {
    issues.push({ ...at(here), message: 'an action step needs exactly one of device or devices' });
    return;
  }
  const targets = stepTargets(s, devices);
  const unknown = s.device && !devices.ids().includes(s.device);
  if (unknown) {
    issues.push({ ...at([...here, 'device']), message: `unknown device "${s.device}"; devices: ${devices.ids().join(', ')}` });
    return;
  }
  if (targets.length === 0) {
    issues.push({ ...at([...here, 'devices']), message: 'no device matches this selector' });
    return;
  }
  for (const id of targets) {
    const actions = devices.actions(id);
    if (!actions) continue;
    const def = actions[s.action ?? ''];
    if (!def) {
      issues.push({
        ...at([...here, 'action']),
        message: `device ${id} has no action "${s.action}"; actions: ${Object.keys(actions).join(', ')}`,
      });
      continue;
    }
    try {
      compileParams(`${id}.${s.action}`, def.params)(s.params ?? {});
    } catch (e) {
      issues.push({ ...at([...here, 'params']), message: (e as Error).message });
    }
  }
}

/** Every cycle of scenario calls (a → b → a), each reported once. */
export function findCycles(all: Map<string, Scenario>): string[][] {
  const calls = (steps: Step[]): string[] =>
    steps.flatMap((s) => [...(s.scenario ? [s.scenario] : []), ...calls(s.parallel ?? []), ...calls(s.loop?.steps ?? [])]);
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    const i = stack.indexOf(name);
    if (i >= 0) {
      const cyc = [...stack.slice(i), name];
      const key = [...cyc.slice(0, -1)].sort().join('|');
      if (!seen.has(key)) {
        seen.add(key);
        cycles.push(cyc);
      }
      return;
    }
    const sc = all.get(name);
    if (!sc) return;
    for (const c of new Set(calls(sc.steps))) visit(c, [...stack, name]);
  };
  for (const name of all.keys()) visit(name, []);
  return cycles;
}
