// An iCalendar source: an Outlook/Exchange published calendar URL, any
// iCalendar URL, or a local file. Polls with ETag / If-Modified-Since (files:
// size + mtime), publishes a CalendarSnapshot in device state.
// Published-calendar URLs carry a secret in their path, so logs and status
// name only the host.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { type CalendarSnapshot, LIST_ACTION, SNAPSHOT_KEY } from '../../src/calendar/model.js';
import { parseRange, RangeParams, refreshAction, syncWindow } from '../../src/calendar/source.js';
import { isIanaZone, systemZone } from '../../src/calendar/zone.js';
import { defineAction, type DeviceInstance, type DriverContext } from '../../src/host/contract.js';
import { Backoff } from '../../src/transport/backoff.js';
import { HttpError, type HttpResponse, httpRequest } from '../../src/transport/http-client.js';
import { AgentError, errorMessage } from '../../src/util/errors.js';
import { Poller } from '../../src/util/poller.js';
import { parseIcs } from './protocol.js';

export const IcsConfigSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      description: 'https:// or http:// iCalendar URL (e.g. an Outlook published calendar), file:// URL, or a file path.',
    }),
    poll_interval_s: Type.Integer({ default: 300, minimum: 5, maximum: 86_400 }),
    request_timeout_ms: Type.Integer({ default: 15_000, minimum: 100, maximum: 120_000 }),
    days_ahead: Type.Integer({ default: 7, minimum: 1, maximum: 62 }),
    time_zone: Type.Optional(
      Type.String({ description: "IANA zone for 'today', all-day dates and floating times (default: the machine's)." }),
    ),
    max_bytes: Type.Integer({ default: 20 * 1024 * 1024, minimum: 1024, description: 'Refuse larger calendars.' }),
  },
  { additionalProperties: false },
);
export type IcsConfig = Static<typeof IcsConfigSchema>;

type Source = { kind: 'http'; url: URL; label: string } | { kind: 'file'; file: string; label: string };

function resolveSource(raw: string): Source {
  if (/^https?:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AgentError('INVALID_PARAMS', 'url is not a valid URL');
    }
    return { kind: 'http', url, label: `${url.protocol}//${url.host}/…` };
  }
  const file = raw.startsWith('file:') ? fileURLToPath(raw) : path.resolve(raw);
  return { kind: 'file', file, label: file };
}

export function createIcs(config: IcsConfig, ctx: DriverContext): DeviceInstance {
  const source = resolveSource(config.url);
  const zone = config.time_zone ?? systemZone();
  if (!isIanaZone(zone)) throw new AgentError('INVALID_PARAMS', `unknown time zone "${zone}"`);
  const backoff = new Backoff({ initialMs: 2000, maxMs: config.poll_interval_s * 1000 });
  // Cache of the last good download, for conditional requests.
  let cached: { text: string; etag: string | null; lastModified: string | null; fileKey: string | null } | null = null;
  const stopped = new AbortController();

  async function load(signal?: AbortSignal): Promise<{ text: string; changed: boolean }> {
    if (source.kind === 'file') {
      let st: Awaited<ReturnType<typeof fs.stat>>;
      try {
        st = await fs.stat(source.file);
      } catch (e) {
        throw new Error(`cannot read ${source.label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const key = `${st.size}:${st.mtimeMs}`;
      if (cached && cached.fileKey === key) return { text: cached.text, changed: false };
      if (st.size > config.max_bytes) throw new Error(`${source.label} is larger than max_bytes (${config.max_bytes})`);
      const text = await fs.readFile(source.file, 'utf8');
      cached = { text, etag: null, lastModified: null, fileKey: key };
      return { text, changed: true };
    }
    const headers: Record<string, string> = { accept: 'text/calendar, */*;q=0.5' };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
    let res: HttpResponse;
    try {
      res = await httpRequest(source.url, {
        headers,
        timeoutMs: config.request_timeout_ms,
        signal: [stopped.signal, signal],
        maxBytes: config.max_bytes,
      });
    } catch (e) {
      const why =
        e instanceof HttpError && e.kind === 'too_large'
          ? `calendar is larger than max_bytes (${config.max_bytes})`
          : errorMessage(e);
      throw new Error(`GET ${source.label}: ${why}`);
    }
    if (res.status === 304 && cached) return { text: cached.text, changed: false };
    if (res.status !== 200) throw new Error(`GET ${source.label}: HTTP ${res.status}`);
    const text = res.text();
    cached = { text, etag: res.header('etag') ?? null, lastModified: res.header('last-modified') ?? null, fileKey: null };
    return { text, changed: true };
  }

  /** One sync; resolves with the delay before the next. */
  async function poll(): Promise<number> {
    const { from, to } = syncWindow(ctx.clock.now(), zone, config.days_ahead);
    let delay = config.poll_interval_s * 1000;
    try {
      const { text, changed } = await load();
      const parsed = parseIcs(text, from, to, { zone });
      if (!poller.running) return delay;
      const snapshot: CalendarSnapshot = {
        synced_at: new Date(ctx.clock.now()).toISOString(),
        window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
        events: parsed.events,
        rooms: [],
      };
      ctx.setState({ [SNAPSHOT_KEY]: snapshot, calendar_name: parsed.name });
      ctx.setStatus('online', `${changed ? 'read' : 'unchanged'}: ${parsed.events.length} meetings from ${source.label}`);
      backoff.reset();
    } catch (e) {
      if (!poller.running) return delay;
      const msg = (e as Error).message;
      ctx.setStatus(msg.startsWith('not a valid iCalendar') ? 'error' : 'offline', msg);
      ctx.reportError(msg);
      delay = backoff.next();
    }
    return delay;
  }
  const poller = new Poller(ctx.clock, poll);

  return {
    async start() {
      poller.start();
    },
    async stop() {
      const stopping = poller.stop();
      stopped.abort(new Error('stopped'));
      await stopping;
    },
    actions: {
      [LIST_ACTION]: defineAction({
        description: 'Meetings in [from, to), read from the calendar now.',
        params: RangeParams,
        readOnly: true,
        run: async (p, a) => {
          const { fromMs, toMs } = parseRange(p);
          const { text } = await load(a.signal);
          return { events: parseIcs(text, fromMs, toMs, { zone }).events, rooms: [] };
        },
      }),
      refresh: refreshAction(poller, 'Read the calendar now instead of waiting for the next poll.'),
    },
  };
}
