// Posts alert changes to a Slack incoming webhook, at most one post per alert
// kind per interval; changes inside the interval are summed up in one post
// at its end, so a cleared alert is always told.
import type { Logger } from 'pino';
import { httpRequest } from '../transport/http-client.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { AlertKind, AlertMessage } from './topics.js';

export type PostFn = (url: string, body: { text: string }) => Promise<void>;

export const httpPost: PostFn = async (url, body) => {
  const res = await httpRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 10_000,
  });
  if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
};

export class SlackNotifier {
  private readonly lastPost = new Map<AlertKind, number>();
  private readonly held = new Map<AlertKind, { messages: AlertMessage[]; timer: TimerHandle }>();
  posts = 0;
  failures = 0;

  constructor(
    private readonly url: string,
    private readonly minIntervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly post: PostFn = httpPost,
  ) {}

  notify(a: AlertMessage, room: string): void {
    const now = this.clock.now();
    const last = this.lastPost.get(a.kind);
    const held = this.held.get(a.kind);
    if (held) {
      held.messages.push(a);
      return;
    }
    if (last === undefined || now - last >= this.minIntervalMs) {
      this.lastPost.set(a.kind, now);
      this.send(formatOne(a, room));
      return;
    }
    const timer = this.clock.setTimeout(() => this.release(a.kind, room), last + this.minIntervalMs - now);
    this.held.set(a.kind, { messages: [a], timer });
  }

  stop(): void {
    for (const h of this.held.values()) this.clock.clearTimeout(h.timer);
    this.held.clear();
  }

  private release(kind: AlertKind, room: string): void {
    const h = this.held.get(kind);
    this.held.delete(kind);
    if (!h?.messages.length) return;
    this.lastPost.set(kind, this.clock.now());
    if (h.messages.length === 1) {
      this.send(formatOne(h.messages[0], room));
      return;
    }
    const lines = h.messages.map((m) => `• ${m.state === 'raised' ? 'RAISED' : 'cleared'} ${m.key}: ${m.message}`);
    this.send(`[${room}] ${h.messages.length} ${kind} alert changes (rate-limited):\n${lines.join('\n')}`);
  }

  private send(text: string): void {
    this.posts++;
    this.post(this.url, { text }).catch((e) => {
      this.failures++;
      // The URL is a secret: only the reason is logged.
      this.logger.warn({ err: errorMessage(e).replace(this.url, '(webhook url)') }, 'slack post failed');
    });
  }
}

function formatOne(a: AlertMessage, room: string): string {
  return a.state === 'raised'
    ? `[${room}] ${a.severity === 'critical' ? 'CRITICAL' : 'WARNING'} ${a.kind} (${a.key}): ${a.message}`
    : `[${room}] cleared ${a.kind} (${a.key}): ${a.message}`;
}
