// `simulated = true`: the host starts one ViscaSimulator per camera through
// the driver definition's simulate(). A simulated serial camera lives on a
// binding-mock port named /dev/ROBOT-sim-<device id>; only that path gets the
// mock binding (src/transport/simulated-ports.ts), real serial devices are untouched.
import type { RunningSimulator, SimulatorContext } from '../../src/host/contract.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import type { SimulatedModelName } from './sim-models.js';
import type { Framing } from './sim-codec.js';
import { ViscaSimulator } from './simulator.js';

/** Simulators started by the host, by device id, so tests can assert what a camera received. */
export const runningViscaSimulators = new Map<string, ViscaSimulator>();

/** The device config keys the simulated camera takes (named as in [devices.<id>]; the simulator keeps its own reading of them). */
export interface SimulatedCameraConfig {
  framing?: Framing;
  /** The camera family: which model of sim-models.ts answers. */
  profile?: SimulatedModelName;
  sim_motion_ms?: number;
  address?: number;
  baud_rate?: number;
}

export async function startSimulatorFor(config: SimulatedCameraConfig, ctx: SimulatorContext): Promise<RunningSimulator> {
  const framing = config.framing ?? 'sony-udp';
  const common = {
    framing,
    profile: config.profile ?? 'sony',
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
