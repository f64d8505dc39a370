// The TrueConf Server calendar source: polls the user's conferences, expands
// schedules into occurrences, publishes a CalendarSnapshot in device state,
// and offers run / stop / participants and in-meeting control (invite,
// disconnect, recording: control-actions.ts) for the Coordinator.
// It runs under the host's device lifecycle through the HTTP link
// (connectHttp): the first sync is the handshake, each sync the probe; silence
// is offline with the lifecycle's backoff, an answered error is `error`, and a
// refused login is `auth_failure` retried on its own schedule (auth_retry_min_s
// doubling to auth_retry_max_s: 1 min to 15 min by default).
import { type Static, Type } from '@sinclair/typebox';
import { type CalendarSnapshot, LIST_ACTION, SNAPSHOT_KEY } from '../../src/calendar/model.js';
import { parseRange, RangeParams, syncWindow } from '../../src/calendar/source.js';
import { isIanaZone, systemZone } from '../../src/calendar/zone.js';
import { defineAction, type DeviceInstance, type DriverContext } from '../../src/host/contract.js';
import { connectHttp, HttpAnsweredError, HttpLink } from '../../src/transport/http-link.js';
import { ConfigFault, type DeviceConnection, type RetrySchedule } from '../../src/transport/lifecycle.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { TcsAuthError, TcsClient, TcsRequestError, TcsTransientError } from './client.js';
import { participantsRequest } from './control.js';
import { controlActions } from './control-actions.js';
import { involvesUser, parseApiVersion, parseConnectionString, parseParticipants, toCalendar } from './protocol.js';

export const TcsConfigSchema = Type.Object(
  {
    connectionString: Type.String({
      'x-secret': true,
      minLength: 1,
      description:
        'server=<base URL>; user=<login>; password=<secret>; client_id=<OAuth client, default trueconf_server_users>. ' +
        'Use ${ENV_VAR} for the password.',
    }),
    user_id: Type.Optional(Type.String({ description: 'User whose calendar is read (default: the connection user).' })),
    api_version: Type.String({
      default: 'v3.11',
      pattern: '^v?(3(\\.\\d+)?|4)$',
      description: 'v3.N (token in query) or v4 (Bearer).',
    }),
    token_path: Type.String({
      'x-secret': false,
      default: '/oauth2/v1/token',
      pattern: '^/',
      description: 'OAuth2 token endpoint path.',
    }),
    poll_interval_s: Type.Integer({ default: 120, minimum: 5, maximum: 3600 }),
    request_timeout_ms: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
    page_size: Type.Integer({ default: 100, minimum: 1, maximum: 1000 }),
    resume_max_age_s: Type.Integer({
      default: 600,
      minimum: 0,
      maximum: 86_400,
      description:
        'A conference list that failed part-way resumes from the failed page if the next sync starts within this many seconds; older partial lists are dropped (0: always start at page 1).',
    }),
    auth_retry_min_s: Type.Integer({
      default: 60,
      minimum: 1,
      maximum: 86_400,
      description: 'After a refused login, the first retry waits this long (±20 %), doubling while refusals repeat.',
    }),
    auth_retry_max_s: Type.Integer({
      default: 900,
      minimum: 1,
      maximum: 86_400,
      description: 'Longest wait between retries of a refused login (must be ≥ auth_retry_min_s).',
    }),
    days_ahead: Type.Integer({ default: 7, minimum: 1, maximum: 62, description: 'Days after today kept in the snapshot.' }),
    time_zone: Type.Optional(Type.String({ description: "IANA zone that defines 'today' (default: the machine's)." })),
    weekly_time_zone: Type.Optional(
      Type.String({
        description:
          'IANA zone in which weekly schedule times are wall clock (DST-aware). Default: the fixed time_offset the server sends.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TcsConfig = Static<typeof TcsConfigSchema>;

const ConfParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

/**
 * What the lifecycle should make of a failed sync: a refused login is a config
 * fault (auth_failure, AUTH_RETRY); a server that did not answer is silence
 * (offline, reconnect with backoff); anything the server answered (5xx, an
 * unreadable body, a 4xx) is an answered error (status `error`, keep polling).
 */
export function lifecycleError(e: unknown, message: string, authRetry: RetrySchedule): Error {
  if (e instanceof TcsAuthError) return new ConfigFault(message, 'auth_failure', authRetry);
  if (e instanceof TcsTransientError && e.silence) return new DeviceError(message, e.silence);
  if (e instanceof TcsRequestError) return new HttpAnsweredError(message, e.status);
  return new HttpAnsweredError(message, null);
}

export function createTcs(config: TcsConfig, ctx: DriverContext): DeviceInstance {
  let conn: ReturnType<typeof parseConnectionString>;
  try {
    conn = parseConnectionString(config.connectionString);
  } catch (e) {
    throw new AgentError('INVALID_PARAMS', (e as Error).message);
  }
  const api = parseApiVersion(config.api_version);
  if (!api) throw new AgentError('INVALID_PARAMS', `api_version "${config.api_version}" is not v3.N or v4`);
  const zone = config.time_zone ?? systemZone();
  for (const z of [zone, config.weekly_time_zone]) {
    if (z && !isIanaZone(z)) throw new AgentError('INVALID_PARAMS', `unknown time zone "${z}"`);
  }
  if (config.auth_retry_max_s < config.auth_retry_min_s) {
    throw new AgentError(
      'INVALID_PARAMS',
      `auth_retry_max_s (${config.auth_retry_max_s}) must not be below auth_retry_min_s (${config.auth_retry_min_s})`,
    );
  }
  // A refused login will not heal by retrying fast: its own schedule, reset once online.
  const authRetry: RetrySchedule = { initialMs: config.auth_retry_min_s * 1000, maxMs: config.auth_retry_max_s * 1000 };
  const userId = config.user_id ?? conn.user;
  let link: HttpLink;
  try {
    link = new HttpLink({ baseUrl: conn.server, timeoutMs: config.request_timeout_ms, clock: ctx.clock, logger: ctx.logger });
  } catch (e) {
    throw new AgentError('INVALID_PARAMS', `connectionString: server: ${errorMessage(e)}`);
  }
  const client = new TcsClient({
    conn,
    link,
    api,
    tokenPath: config.token_path,
    pageSize: config.page_size,
    resumeMaxAgeMs: config.resume_max_age_s * 1000,
    clock: ctx.clock,
    logger: ctx.logger,
  });
  let dc: DeviceConnection | null = null;
  let stopped = false;

  async function fetchRange(fromMs: number, toMs: number, signal?: AbortSignal, resume = false) {
    const confs = (await client.conferences(fromMs, toMs, signal, { resume })).filter((c) => involvesUser(c, userId));
    return toCalendar(confs, fromMs, toMs, { weeklyZone: config.weekly_time_zone ?? null });
  }

  /** One sync: publishes the snapshot and resolves with the status message; a failure is classified for the lifecycle. */
  async function sync(): Promise<string> {
    const { from, to } = syncWindow(ctx.clock.now(), zone, config.days_ahead);
    try {
      const { events, rooms } = await fetchRange(from, to, undefined, true);
      if (stopped) throw new Error('stopped');
      const snapshot: CalendarSnapshot = {
        synced_at: new Date(ctx.clock.now()).toISOString(),
        window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        events,
        rooms,
      };
      ctx.setState({ [SNAPSHOT_KEY]: snapshot });
      return `synced ${events.length} meetings, ${rooms.length} rooms from ${new URL(conn.server).host}`;
    } catch (e) {
      const kept = client.resumablePages;
      const msg = `${errorMessage(e)}${kept ? ` (${kept} page${kept > 1 ? 's' : ''} kept; the next sync resumes at the failed page)` : ''}`;
      if (!stopped) ctx.reportError(msg);
      throw lifecycleError(e, msg, authRetry);
    }
  }

  /** A sync outside the poll (refresh, after run/stop/invite…): its outcome is the device's condition. */
  async function syncNow(): Promise<void> {
    try {
      const message = await sync();
      dc?.condition('online', message);
    } catch (e) {
      if (!dc || stopped) return;
      if (e instanceof ConfigFault) dc.fault(e.message, e.status, e.retry);
      else if (e instanceof HttpAnsweredError) dc.condition('error', e.message);
      else dc.fail(errorMessage(e));
    }
  }

  /**
   * An action's failure as the host reads it: a server that did not answer is DEVICE_TIMEOUT (counted
   * toward timeouts_before_reconnect) or DEVICE_OFFLINE (refused, unreachable), never a generic error.
   */
  const toDeviceError = (e: unknown): never => {
    if (e instanceof TcsRequestError && e.status === 404) throw new DeviceError(e.message, 'DEVICE_ERROR', { status: 404 });
    if (e instanceof TcsTransientError && e.silence) throw new DeviceError(e.message, e.silence);
    throw e;
  };

  /** POST /conferences/{id}/<verb>, then sync so the snapshot shows the new state soon. */
  const conferenceCommand = (verb: 'run' | 'stop', description: string) =>
    defineAction({
      description,
      params: ConfParams,
      run: async (p, a) => {
        const r = await client.api('POST', `/conferences/${encodeURIComponent(p.id)}/${verb}`, {}, a.signal).catch(toDeviceError);
        void syncNow();
        return r;
      },
    });

  return {
    async start() {
      // The first sync is the handshake, in the background: an unreachable server must not block start-up.
      dc = connectHttp(ctx.connect, link, { poll: sync, pollIntervalMs: config.poll_interval_s * 1000 });
      dc.start();
    },
    async stop() {
      stopped = true;
      client.close();
      await dc?.stop();
      dc = null;
    },
    actions: {
      ...controlActions(client, api, () => void syncNow()),
      [LIST_ACTION]: defineAction({
        description: 'Meetings and virtual rooms in [from, to), read from the server now.',
        params: RangeParams,
        readOnly: true,
        run: async (p, a) => {
          const { fromMs, toMs } = parseRange(p);
          return fetchRange(fromMs, toMs, a.signal).catch(toDeviceError);
        },
      }),
      refresh: defineAction({
        description: 'Sync the calendar now instead of waiting for the next poll.',
        params: Type.Object({}, { additionalProperties: false }),
        readOnly: true,
        allowOffline: true,
        run: async () => {
          await syncNow();
          return { ok: true };
        },
      }),
      run: conferenceCommand('run', 'Start a conference (POST /conferences/{id}/run).'),
      stop: conferenceCommand('stop', 'Stop a running conference (POST /conferences/{id}/stop).'),
      participants: defineAction({
        description: 'Who is in a conference now (GET /conferences/{id}/participants; on v4 with is_in_conf=true).',
        params: ConfParams,
        readOnly: true,
        run: async (p, a) => {
          const req = participantsRequest(api, p.id);
          const body = await client.api(req.method, req.path, req.query, a.signal).catch(toDeviceError);
          return { participants: parseParticipants(body) };
        },
      }),
    },
  };
}
