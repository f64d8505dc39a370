// `simulated = true`: the host starts one ViscaSimulator per camera through
// the driver definition's simulate(). A simulated serial camera lives on a
// binding-mock port named /dev/ROBOT-sim-<device id>; only that path gets the
// mock binding (src/transport/simulated-ports.ts), real serial devices are untouched.
import type { RunningSimulator, SimulatorContext } from '../../src/host/contract.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import type { ViscaConfig } from './config.js';
import { PROFILES } from './profiles.js';
import { ViscaSimulator } from './simulator.js';

/** Simulators started by the host, by device id, so tests can assert what a camera received. */
export const runningViscaSimulators = new Map<string, ViscaSimulator>();

export async function startSimulatorFor(config: Partial<ViscaConfig>, ctx: SimulatorContext): Promise<RunningSimulator> {
  const framing = config.framing ?? 'sony-udp';
  const common = {
    framing,
    profile: PROFILES[config.profile ?? 'sony'],
    motionMs: config.sim_motion_ms ?? 1000,
    // On a serial chain the camera sits at position `address`.
    chainPosition: framing === 'serial' ? (config.address ?? 1) : 1,
  };
  let sim: ViscaSimulator;
  if (framing === 'serial') {
    // `room-agent simulate --path /dev/ttyUSB1` answers on a real port; in-process it is a mock port.
    const real = ctx.path !== undefined;
    const path = ctx.path ?? `/dev/ROBOT-sim-${ctx.id}`;
    sim = await new ViscaSimulator({ ...common, path, realSerialPort: real, baudRate: config.baud_rate }).start();
    if (sim.binding) simulatedSerialPorts.set(path, sim.binding);
  } else {
    sim = await new ViscaSimulator({ ...common, host: ctx.host, port: ctx.port }).start();
  }
  runningViscaSimulators.set(ctx.id, sim);
  ctx.logger.info({ endpoint: sim.endpoint, framing }, 'VISCA simulator listening');
  return {
    endpoint: sim.endpoint,
    async stop() {
      if (runningViscaSimulators.get(ctx.id) === sim) runningViscaSimulators.delete(ctx.id);
      const path = sim.endpoint.path;
      if (typeof path === 'string' && simulatedSerialPorts.get(path) === sim.binding) simulatedSerialPorts.delete(path);
      await sim.stop();
    },
  };
}
