// The "tcp or serial" choice several drivers offer, read from their config
// keys `transport`, `host`, `port`, `path`, `baud_rate`, with the same config
// errors for a missing address.
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import { AgentError } from '../util/errors.js';
import type { Link } from './link.js';
import { type BindingInterface, SerialLink } from './serial.js';
import { TcpLink } from './tcp.js';

/** The transport keys of a driver config (the schema supplies defaults; `defaults` covers a config built without them). */
export interface LinkConfig {
  transport?: 'tcp' | 'serial';
  host?: string;
  port?: number;
  path?: string;
  baud_rate?: number;
}

/**
 * A SerialLink on `path` or a TcpLink to `host`, as `cfg.transport` says (default tcp).
 * INVALID_PARAMS when the chosen transport's address is missing. `serialBinding`: a simulator's
 * binding-mock port (tests); default: the OS serial ports.
 */
export function pickLink(
  device: { id: string; logger?: Logger; clock?: Clock },
  cfg: LinkConfig,
  defaults: { port: number; baudRate: number },
  serialBinding?: BindingInterface,
): Link {
  const base = { logger: device.logger, clock: device.clock };
  if ((cfg.transport ?? 'tcp') === 'serial') {
    if (!cfg.path) throw new AgentError('INVALID_PARAMS', `device ${device.id}: transport "serial" needs "path"`);
    return new SerialLink({ ...base, path: cfg.path, baudRate: cfg.baud_rate ?? defaults.baudRate, binding: serialBinding });
  }
  if (!cfg.host)
    throw new AgentError('INVALID_PARAMS', `device ${device.id}: transport "tcp" needs "host" (or simulated = true)`);
  return new TcpLink({ ...base, host: cfg.host, port: cfg.port ?? defaults.port });
}
