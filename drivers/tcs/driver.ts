// The TrueConf Server calendar source: polls the user's conferences, expands
// schedules into occurrences, publishes a CalendarSnapshot in device state,
// and offers run / stop / participants and in-meeting control (invite,
// disconnect, recording: control-actions.ts) for the Coordinator.
import { type Static, Type } from '@sinclair/typebox';
import { type CalendarSnapshot, LIST_ACTION, SNAPSHOT_KEY } from '../../src/calendar/model.js';
import { parseRange, RangeParams, refreshAction, syncWindow } from '../../src/calendar/source.js';
import { isIanaZone, systemZone } from '../../src/calendar/zone.js';
import { defineAction, type DeviceInstance, type DriverContext } from '../../src/host/contract.js';
import { Backoff } from '../../src/transport/backoff.js';
import { AgentError, DeviceError } from '../../src/util/errors.js';
import { Poller } from '../../src/util/poller.js';
import { TcsAuthError, TcsClient, TcsRequestError } from './client.js';
import { controlActions } from './control-actions.js';
import { involvesUser, parseApiVersion, parseConnectionString, parseParticipants, toCalendar } from './protocol.js';

export const TcsConfigSchema = Type.Object(
  {
    connectionString: Type.String({
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
    token_path: Type.String({ default: '/oauth2/v1/token', pattern: '^/', description: 'OAuth2 token endpoint path.' }),
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
  const userId = config.user_id ?? conn.user;
  const client = new TcsClient({
    conn,
    api,
    tokenPath: config.token_path,
    timeoutMs: config.request_timeout_ms,
    pageSize: config.page_size,
    resumeMaxAgeMs: config.resume_max_age_s * 1000,
    clock: ctx.clock,
    logger: ctx.logger,
  });
  const backoff = new Backoff({ initialMs: 2000, maxMs: config.poll_interval_s * 1000 });
  const authBackoff = new Backoff({ initialMs: 60_000, maxMs: 15 * 60_000 });

  async function fetchRange(fromMs: number, toMs: number, signal?: AbortSignal, resume = false) {
    const confs = (await client.conferences(fromMs, toMs, signal, { resume })).filter((c) => involvesUser(c, userId));
    return toCalendar(confs, fromMs, toMs, { weeklyZone: config.weekly_time_zone ?? null });
  }

  /** One sync; resolves with the delay before the next. */
  async function poll(): Promise<number> {
    const { from, to } = syncWindow(ctx.clock.now(), zone, config.days_ahead);
    let delay = config.poll_interval_s * 1000;
    try {
      const { events, rooms } = await fetchRange(from, to, undefined, true);
      if (!poller.running) return delay;
      const snapshot: CalendarSnapshot = {
        synced_at: new Date(ctx.clock.now()).toISOString(),
        window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        events,
        rooms,
      };
      ctx.setState({ [SNAPSHOT_KEY]: snapshot });
      ctx.setStatus('online', `synced ${events.length} meetings, ${rooms.length} rooms from ${new URL(conn.server).host}`);
      backoff.reset();
      authBackoff.reset();
    } catch (e) {
      if (!poller.running) return delay;
      const kept = client.resumablePages;
      const msg = `${(e as Error).message}${kept ? ` (${kept} page${kept > 1 ? 's' : ''} kept; the next sync resumes at the failed page)` : ''}`;
      if (e instanceof TcsAuthError) {
        ctx.setStatus('auth_failure', msg);
        delay = authBackoff.next();
      } else {
        ctx.setStatus('offline', msg);
        delay = backoff.next();
      }
      ctx.reportError(msg);
    }
    return delay;
  }
  const poller = new Poller(ctx.clock, poll);

  const toDeviceError = (e: unknown): never => {
    if (e instanceof TcsRequestError && e.status === 404) throw new DeviceError(e.message, 'DEVICE_ERROR', { status: 404 });
    throw e;
  };

  /** POST /conferences/{id}/<verb>, then sync so the snapshot shows the new state soon. */
  const conferenceCommand = (verb: 'run' | 'stop', description: string) =>
    defineAction({
      description,
      params: ConfParams,
      run: async (p, a) => {
        const r = await client.api('POST', `/conferences/${encodeURIComponent(p.id)}/${verb}`, {}, a.signal).catch(toDeviceError);
        void poller.run();
        return r;
      },
    });

  return {
    async start() {
      // The first sync runs in the background: an unreachable server must not block start-up.
      poller.start();
    },
    async stop() {
      const stopping = poller.stop();
      client.close();
      await stopping;
    },
    actions: {
      ...controlActions(client, api, () => void poller.run()),
      [LIST_ACTION]: defineAction({
        description: 'Meetings and virtual rooms in [from, to), read from the server now.',
        params: RangeParams,
        readOnly: true,
        run: async (p, a) => {
          const { fromMs, toMs } = parseRange(p);
          return fetchRange(fromMs, toMs, a.signal);
        },
      }),
      refresh: refreshAction(poller, 'Sync the calendar now instead of waiting for the next poll.'),
      run: conferenceCommand('run', 'Start a conference (POST /conferences/{id}/run).'),
      stop: conferenceCommand('stop', 'Stop a running conference (POST /conferences/{id}/stop).'),
      participants: defineAction({
        description: 'Who is in a conference now (GET /conferences/{id}/participants).',
        params: ConfParams,
        readOnly: true,
        run: async (p, a) => {
          const body = await client
            .api('GET', `/conferences/${encodeURIComponent(p.id)}/participants`, {}, a.signal)
            .catch(toDeviceError);
          return { participants: parseParticipants(body) };
        },
      }),
    },
  };
}
