import { defineDriver } from '../../src/host/contract.js';
import { createQsys, type QsysConfig, QsysConfigSchema } from './driver.js';
import { type QrcSimControl, type QrcSimulatorOptions, QrcSimulator } from './simulator.js';

export const qsysDriver = defineDriver({
  name: 'qsys',
  kind: 'audio',
  description: 'Q-SYS Core over QRC (TCP 1710, JSON-RPC): level, mute, snapshot recall; live control values by AutoPoll.',
  config: QsysConfigSchema,
  create: createQsys,
  async simulate(config, sctx) {
    const sim = new QrcSimulator({ ...simulatorDesign(config), host: sctx.host });
    const port = await sim.start(sctx.port ?? 0);
    return { endpoint: { host: sctx.host && sctx.host !== '0.0.0.0' ? sctx.host : '127.0.0.1', port }, stop: () => sim.stop() };
  },
});

/** A simulated design holding exactly the controls the config names, so the demo works as configured. */
export function simulatorDesign(config: QsysConfig): QrcSimulatorOptions {
  const named: Record<string, QrcSimControl> = {};
  const components: Record<string, Record<string, QrcSimControl>> = {};
  const levels: string[] = [];
  for (const c of Object.values(config.controls ?? {})) {
    const ctl: QrcSimControl = c.type === 'level' ? { value: -20, kind: 'gain' } : { value: 0, kind: 'boolean' };
    if (c.type === 'level') levels.push(c.component ? `${c.component}/${c.control}` : c.control);
    if (c.component) (components[c.component] ??= {})[c.control] = ctl;
    else named[c.control] = ctl;
  }
  // Snapshot N sets every level to -5·N dB, so a recall is visible in state.
  const snapshots = config.snapshot_bank
    ? {
        [config.snapshot_bank]: Object.fromEntries(
          [1, 2, 3, 4].map((n) => [n, Object.fromEntries(levels.map((k) => [k, -5 * n]))]),
        ),
      }
    : undefined;
  return { named, components, snapshots, user: config.user, password: config.user ? config.password : undefined };
}
