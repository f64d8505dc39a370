// The HTTP fault matrix (test/support/fault-matrix-http.ts) for the TrueConf
// Server calendar, API v3.11 (token in the query) and v4 (Bearer): the peer
// forwards to the TrueConf emulator (drivers/tcs/simulator.ts) when healthy.
import type { CalendarSnapshot } from '../src/calendar/model.js';
import { tcsDriver } from '../drivers/tcs/index.js';
import { type EmulatorConference, TcsEmulator } from '../drivers/tcs/simulator.js';
import { describeHttpFaultMatrix } from './support/fault-matrix-http.js';

const PASSWORD = 'Matrix-pw;"quoted"-7431';
/** The rig's fake clock starts at 2026-01-01T00:00Z: meetings that day are in the snapshot's window. */
const DAY = Date.UTC(2026, 0, 1);

function conference(major: 3 | 4, id: string, topic: string, hour: number): EmulatorConference {
  return {
    id,
    topic,
    owner: 'room101@tcs.test',
    schedule: { type: major === 4 ? 'once' : 1, start_time: (DAY + hour * 3_600_000) / 1000, duration: 1800 },
    state: 'stopped',
  };
}

const titles = (state: Record<string, unknown>) =>
  ((state.calendar as CalendarSnapshot | undefined)?.events ?? []).map((e) => e.title);

for (const major of [3, 4] as const) {
  describeHttpFaultMatrix(`tcs (API ${major === 4 ? 'v4' : 'v3.11'})`, {
    driver: tcsDriver,
    async device() {
      const emu = new TcsEmulator({ users: { room101: PASSWORD } });
      const url = new URL(await emu.start());
      emu.conferences = [conference(major, 'c0', 'Morning sync', 10)];
      return Object.assign(emu, { host: '127.0.0.1', port: Number(url.port) });
    },
    config: (port) => ({
      connectionString: `server=http://127.0.0.1:${port}; user=room101; password="${PASSWORD.replaceAll('"', '""')}"`,
      api_version: major === 4 ? 'v4' : 'v3.11',
      poll_interval_s: 5,
      request_timeout_ms: 1000,
      time_zone: 'UTC',
    }),
    pollIntervalMs: 5000,
    requestTimeoutMs: 1000,
    // The handshake is the token request, then the list; the first failure ends the attempt.
    requestsPerAttempt: 1,
    // A poll lists one page with the token held.
    requestsPerPoll: 1,
    action: { name: 'participants', params: { id: 'c0' } },
    garbage: { contentType: 'text/html; charset=utf-8', body: '<html><body>Gateway login\u0000\u00ff</body></html>' },
    reasons: {
      error: /HTTP 503/,
      garbage: /response is not valid JSON/,
      truncated: /response is not valid JSON/,
    },
    secrets: (emu) => [PASSWORD, 'Matrix-pw', ...emu.issuedTokens],
    ready: (state) => titles(state).includes('Morning sync'),
    change: {
      make: (emu) => void emu.conferences.push(conference(major, 'c1', 'Added while away', 14)),
      seen: (state) => titles(state).includes('Added while away'),
    },
  });
}
