// systemd notifications for `Type=notify` units: READY after the API listens,
// WATCHDOG pings at half of WatchdogSec, STOPPING on shutdown. Node has no
// unix datagram sockets, so the datagram goes through the small `unix-dgram`
// addon; abstract-namespace sockets ("@…"), which the addon cannot address,
// fall back to the `systemd-notify` tool (then the unit needs NotifyAccess=all).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', fn: (e: Error) => void): void;
}

type Sender = (message: string) => void;

export class SystemdNotifier {
  private timer: NodeJS.Timeout | null = null;
  private socket: DgramSocket | null = null;
  private readonly send: Sender;

  private constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly watchdogUsec: number,
  ) {
    this.send = path.startsWith('@') ? this.viaTool.bind(this) : this.viaSocket.bind(this);
  }

  /** Null when not started by systemd (no NOTIFY_SOCKET): then nothing is ever sent. */
  static fromEnv(env: NodeJS.ProcessEnv, logger: Logger): SystemdNotifier | null {
    const path = env.NOTIFY_SOCKET;
    if (!path) return null;
    const usec = Number(env.WATCHDOG_USEC ?? 0);
    const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
    return new SystemdNotifier(path, logger, pid === process.pid && usec > 0 ? usec : 0);
  }

  /** The agent is up: READY=1, and the watchdog starts pinging. */
  ready(status = 'running'): void {
    this.send(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
    if (this.watchdogUsec > 0 && !this.timer) {
      const every = Math.max(50, Math.floor(this.watchdogUsec / 2000));
      this.timer = setInterval(() => this.send('WATCHDOG=1'), every);
      this.timer.unref();
      this.logger.info({ every_ms: every }, 'systemd watchdog pings on');
    }
  }

  /** SIGHUP: the config is being re-read (systemd shows "reloading" until ready() again). */
  reloading(): void {
    // MONOTONIC_USEC: CLOCK_MONOTONIC, which Node's hrtime reads on Linux (Type=notify-reload needs it).
    this.send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  }

  status(text: string): void {
    this.send(`STATUS=${text}`);
  }

  stopping(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.send('STOPPING=1');
    this.socket?.close();
    this.socket = null;
  }

  private viaSocket(message: string): void {
    try {
      if (!this.socket) {
        const require = createRequire(import.meta.url);
        const unix = require('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };
        this.socket = unix.createSocket('unix_dgram');
        this.socket.on('error', (e) => this.logger.warn({ err: e.message }, 'sd_notify failed'));
      }
      const buf = Buffer.from(message);
      this.socket.send(buf, 0, buf.length, this.path);
    } catch (e) {
      this.logger.warn(
        { err: (e as Error).message },
        'sd_notify unavailable (unix-dgram addon did not load); using systemd-notify',
      );
      this.viaTool(message);
    }
  }

  private viaTool(message: string): void {
    const args = message.split('\n').filter((l) => !l.startsWith('MAINPID='));
    execFile('systemd-notify', [`--pid=${process.pid}`, ...args], (err) => {
      if (err) this.logger.warn({ err: err.message }, 'systemd-notify failed');
    });
  }
}
