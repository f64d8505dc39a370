import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../src/api/metrics.js';
import type { DeviceStateStore } from '../src/state/devices.js';

const noDevices = { list: () => [] } as unknown as DeviceStateStore;
const build = { version: 't', node: 'v0', config_version: '0' };

/** What prom-client's own Counter and Histogram print for the same actions (the format before the tallies). */
function reference(obs: [string, string, boolean, number][]) {
  const registry = new Registry();
  const actions = new Counter({
    name: 'room_agent_actions_total',
    help: 'Device actions run, by driver, action and outcome.',
    labelNames: ['driver', 'action', 'ok'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'room_agent_action_seconds',
    help: 'Device action latency by driver (from API call to device confirmation).',
    labelNames: ['driver'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const [driver, action, ok, s] of obs) {
    actions.inc({ driver, action, ok: ok ? 'true' : 'false' });
    latency.observe({ driver }, s);
  }
  return registry;
}

const pick = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => /room_agent_action(s_total|_seconds) /.test(block))
    .map((block) => block.trim())
    .join('\n\n');

describe('action metrics (tallied per action, handed to prom-client at scrape time)', () => {
  it('print exactly what prom-client counters and histograms print, scrape after scrape', async () => {
    const m = new AgentMetrics(noDevices, () => 0, build);
    const obs: [string, string, boolean, number][] = [];
    const bounds = [0.0005, 0.001, 0.0025, 10];
    for (const [driver, action] of [
      ['visca', 'preset.recall'],
      ['visca', 'pan_tilt.move'],
      ['tesira', 'level.set'],
    ]) {
      for (let k = 0; k < 7; k++) {
        // On a bucket bound, between bounds, beyond the last one.
        const s = k < bounds.length ? bounds[k] : [0.0007, 0.3, 42][k - bounds.length];
        obs.push([driver, action, k % 3 !== 0, s]);
      }
    }
    for (const o of obs.slice(0, 10)) m.observe(...o);
    expect(pick(await m.registry.metrics())).toBe(pick(await reference(obs.slice(0, 10)).metrics()));
    // A second scrape adds only what happened since the first.
    for (const o of obs.slice(10)) m.observe(...o);
    expect(pick(await m.registry.metrics())).toBe(pick(await reference(obs).metrics()));
    expect(pick(await m.registry.metrics())).toBe(pick(await reference(obs).metrics()));
    // JSON form as well (labels of each value in one object; no exemplars either way).
    const json = async (r: Registry) =>
      (await r.getMetricsAsJSON())
        .filter((x) => x.name.startsWith('room_agent_action'))
        .map((x) => ({
          ...x,
          values: x.values.map((v) => ({ labels: v.labels, value: v.value, name: (v as { metricName?: string }).metricName })),
        }));
    expect(await json(m.registry)).toEqual(await json(reference(obs)));
  });
  it('no action yet: the metrics are listed without series, as before', async () => {
    const m = new AgentMetrics(noDevices, () => 0, build);
    expect(pick(await m.registry.metrics())).toBe(pick(await reference([]).metrics()));
  });
});
