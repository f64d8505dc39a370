export { Backoff, type BackoffOptions } from './backoff.js';
export { DelimiterFramer, LineFramer } from './framing.js';
export { Link, type LinkOptions } from './link.js';
export { SerialLink, setSerialBinding, type SerialLinkOptions } from './serial.js';
export { simulatedSerialPorts } from './simulated-ports.js';
export { TcpLink, type TcpLinkOptions } from './tcp.js';
export { TelnetFilter } from './telnet.js';
export { UdpLink, type UdpLinkOptions } from './udp.js';
export { CommandQueue, type QueueOptions } from './queue.js';
export {
  ConfigFault,
  type ConnectionHooks,
  DeviceConnection,
  type HandshakeContext,
  LIFECYCLE_DEFAULTS,
  type LifecycleLimits,
} from './lifecycle.js';
