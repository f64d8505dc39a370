// Serial ports a simulator answers on, by path: `simulated = true` on a
// serial device puts the simulator on a binding-mock port (src/transport/
// serial-mock.ts) and registers its binding here; a driver's SerialLink takes
// the binding registered for its path, and the OS serial ports for any other
// path. Neutral ground between drivers and simulators, so neither imports
// the other (a simulator is a witness of the manual, never of the driver).
import type { BindingInterface } from './serial.js';

/** Binding-mock ports of running simulators, by port path. */
export const simulatedSerialPorts = new Map<string, BindingInterface>();
