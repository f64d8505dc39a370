// An iCalendar source: an Outlook/Exchange published calendar URL, any
// iCalendar URL, or a local file. Polls with ETag / If-Modified-Since (files:
// size + mtime), publishes a CalendarSnapshot in device state. A URL goes
// through the HTTP link under the host's device lifecycle (connectHttp): the
// poll is the lifecycle's probe, silence is offline, an answered error is
// `error`. A local file has no link: it keeps its own poll and status.
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
import type { HttpResponse } from '../../src/transport/http-client.js';
import { connectHttp, HttpAnsweredError, HttpLink } from '../../src/transport/http-link.js';
import type { DeviceConnection } from '../../src/transport/lifecycle.js';
import { AgentError, errorMessage } from '../../src/util/errors.js';
import { Poller } from '../../src/util/poller.js';
import { type ParsedCalendar, parseIcs } from './protocol.js';

export const IcsConfigSchema = Type.Object(
  {
    url: Type.String({
      'x-secret': true, // a published calendar's URL is its own credential
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
  // A mistyped scheme (htps://…) would otherwise be read as a file path and shown, secret path and all, in
  // the status; the message names the scheme only.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1];
  if (scheme && scheme.toLowerCase() !== 'file') {
    throw new AgentError(
      'INVALID_PARAMS',
      `url: unsupported scheme "${scheme.slice(0, 10)}:" (use https://, http://, file:// or a file path)`,
    );
  }
  let file: string;
  try {
    file = raw.startsWith('file:') ? fileURLToPath(raw) : path.resolve(raw);
  } catch {
    throw new AgentError('INVALID_PARAMS', 'url is not a valid file:// URL');
  }
  return { kind: 'file', file, label: file };
}

export function createIcs(config: IcsConfig, ctx: DriverContext): DeviceInstance {
  const source = resolveSource(config.url);
  const zone = config.time_zone ?? systemZone();
  if (!isIanaZone(zone)) throw new AgentError('INVALID_PARAMS', `unknown time zone "${zone}"`);
  const backoff = new Backoff({ initialMs: 2000, maxMs: config.poll_interval_s * 1000 });
  // The last download that parsed, with its validators, for conditional requests. Only a body that
  // parsed is kept: validators that came with a rejected or cut-off body are never sent back, and a
  // 304 never revives such a body (RFC 9111 §3.3: an incomplete response is not reused).
  type Copy = { text: string; etag: string | null; lastModified: string | null; fileKey: string | null };
  let cached: Copy | null = null;
  const stopped = new AbortController();

  /** Reads the calendar; `copy` is what becomes the cached copy once its text has parsed. */
  async function load(signal?: AbortSignal): Promise<{ text: string; changed: boolean; copy: Copy }> {
    if (source.kind === 'file') {
      let st: Awaited<ReturnType<typeof fs.stat>>;
      try {
        st = await fs.stat(source.file);
      } catch (e) {
        throw new Error(`cannot read ${source.label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const key = `${st.size}:${st.mtimeMs}`;
      if (cached && cached.fileKey === key) return { text: cached.text, changed: false, copy: cached };
      if (st.size > config.max_bytes) throw new Error(`${source.label} is larger than max_bytes (${config.max_bytes})`);
      const text = await fs.readFile(source.file, 'utf8');
      return { text, changed: true, copy: { text, etag: null, lastModified: null, fileKey: key } };
    }
    const headers: Record<string, string> = { accept: 'text/calendar, */*;q=0.5' };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
    // One request at a time through the link: a poll and a list_events never overlap.
    const res: HttpResponse = await link!.request(source.url.href, {
      headers,
      signal,
      accept: (status) => status === 200 || (status === 304 && cached !== null),
    });
    if (res.status === 304 && cached) return { text: cached.text, changed: false, copy: cached };
    const text = res.text();
    return {
      text,
      changed: true,
      copy: { text, etag: res.header('etag') ?? null, lastModified: res.header('last-modified') ?? null, fileKey: null },
    };
  }

  // The last sync's parse: a poll that finds the same text (a 304, an unchanged file, or a 200 with the
  // same body) in the same window — the window moves once a day — returns it instead of expanding the
  // calendar again. parseIcs is pure, so the same text and window give the same events.
  let lastSync: { text: string; fromMs: number; toMs: number; parsed: ParsedCalendar } | null = null;

  /** Reads and parses [from, to); the download becomes the cached copy only when it parsed. */
  async function read(fromMs: number, toMs: number, signal?: AbortSignal, forSync = false) {
    const { text, changed, copy } = await load(signal);
    const same = lastSync?.text === text && lastSync.fromMs === fromMs && lastSync.toMs === toMs;
    const parsed = same && lastSync ? lastSync.parsed : parseIcs(text, fromMs, toMs, { zone });
    if (forSync) lastSync = { text, fromMs, toMs, parsed };
    cached = copy;
    return { parsed, changed };
  }

  /** One sync: reads the window and publishes it; resolves with the status message. */
  async function sync(): Promise<string> {
    const { from, to } = syncWindow(ctx.clock.now(), zone, config.days_ahead);
    const { parsed, changed } = await read(from, to, stopped.signal, true);
    if (stopped.signal.aborted) throw new Error('stopped');
    const snapshot: CalendarSnapshot = {
      synced_at: new Date(ctx.clock.now()).toISOString(),
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      events: parsed.events,
      rooms: [],
    };
    ctx.setState({ [SNAPSHOT_KEY]: snapshot, calendar_name: parsed.name });
    return `${changed ? 'read' : 'unchanged'}: ${parsed.events.length} meetings from ${source.label}`;
  }

  // A URL: the HTTP link under the host's lifecycle (the poll is the probe).
  const link =
    source.kind === 'http'
      ? new HttpLink({
          baseUrl: source.url.origin,
          timeoutMs: config.request_timeout_ms,
          maxBytes: config.max_bytes,
          // Published calendars may move; no credentials travel with the request (the secret is the URL).
          redirect: 'follow',
          logger: ctx.logger,
          clock: ctx.clock,
        })
      : null;
  let conn: DeviceConnection | null = null;
  /** A sync outside the poll (refresh): its outcome is the device's condition. */
  async function syncNow(): Promise<void> {
    try {
      conn?.condition('online', await sync());
    } catch (e) {
      const msg = errorMessage(e);
      ctx.reportError(msg);
      if (!(e instanceof HttpAnsweredError) && !msg.startsWith('not a valid iCalendar')) conn?.fail(msg);
      else conn?.condition('error', msg);
    }
  }

  // A local file: its own poll and status (no link to lose).
  async function pollFile(): Promise<number> {
    let delay = config.poll_interval_s * 1000;
    try {
      const message = await sync();
      if (!poller.running) return delay;
      ctx.setStatus('online', message);
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
  const poller = new Poller(ctx.clock, pollFile);

  return {
    async start() {
      // The first read and parse (ical.js walking the recurring series: ~90 ms on the demo calendar)
      // waits for the agent to be ready: the API does not need it, and meetings arrive a moment later.
      void ctx.agentReady.then(() => {
        if (stopped.signal.aborted) return;
        if (!link) return poller.start();
        conn = connectHttp(ctx.connect, link, { poll: sync, pollIntervalMs: config.poll_interval_s * 1000 });
        conn.start();
      });
    },
    async stop() {
      stopped.abort(new Error('stopped'));
      if (!link) return poller.stop();
      await conn?.stop();
      conn = null;
    },
    actions: {
      [LIST_ACTION]: defineAction({
        description: 'Meetings in [from, to), read from the calendar now.',
        params: RangeParams,
        readOnly: true,
        run: async (p, a) => {
          const { fromMs, toMs } = parseRange(p);
          const { parsed } = await read(fromMs, toMs, a.signal);
          return { events: parsed.events, rooms: [] };
        },
      }),
      refresh: link
        ? defineAction({
            description: 'Read the calendar now instead of waiting for the next poll.',
            params: Type.Object({}, { additionalProperties: false }),
            readOnly: true,
            allowOffline: true,
            run: async () => {
              await syncNow();
              return { ok: true };
            },
          })
        : refreshAction(poller, 'Read the calendar now instead of waiting for the next poll.'),
    },
  };
}
