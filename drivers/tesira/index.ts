import { defineDriver } from '../../src/host/contract.js';
import { createTesira, type TesiraConfig, TesiraConfigSchema } from './driver.js';
import { type TesiraBlock, TesiraSimulator } from './simulator.js';

export const tesiraDriver = defineDriver({
  name: 'tesira',
  kind: 'audio',
  description:
    'Biamp Tesira over TTP (Telnet 23 or RS-232 115200): level, mute, toggle, preset recall; live values by subscription.',
  config: TesiraConfigSchema,
  create: createTesira,
  async simulate(config, sctx) {
    const sim = new TesiraSimulator({ host: sctx.host, ...simulatorDesign(config) });
    const port = await sim.start(sctx.port ?? 0);
    return {
      endpoint: { transport: 'telnet', host: sctx.host && sctx.host !== '0.0.0.0' ? sctx.host : '127.0.0.1', port },
      stop: () => sim.stop(),
    };
  },
});

/** Blocks for exactly the configured controls; preset 1001 sets levels to -20 dB and unmutes, 1002 to -5 dB. */
export function simulatorDesign(config: TesiraConfig): {
  blocks: Record<string, TesiraBlock>;
  presets: Record<number, Record<string, number | boolean>>;
} {
  const blocks: Record<string, TesiraBlock> = {};
  const p1: Record<string, number | boolean> = {};
  const p2: Record<string, number | boolean> = {};
  for (const c of Object.values(config.controls ?? {})) {
    const ch = c.channel ?? 1;
    const b = (blocks[c.instance] ??= { kind: c.type, channels: {} });
    b.channels[ch] = c.type === 'level' ? -10 : false;
    p1[`${c.instance}/${ch}`] = c.type === 'level' ? -20 : false;
    p2[`${c.instance}/${ch}`] = c.type === 'level' ? -5 : false;
  }
  return { blocks, presets: { 1001: p1, 1002: p2 } };
}
