// Serves the commissioning console: the page built by scripts/build-console.ts
// into dist/console/. The page itself is public; everything it shows comes
// over the WebSocket API with the token the user types.
import fs from 'node:fs';
import path from 'node:path';
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import { packageRoot } from '../util/package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Same-origin only: the bundle loads nothing from elsewhere (no CDN), talks to
 * this agent's /ws, and shows video frames fetched into blob: URLs.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** dist/console of this checkout or install. */
export function consoleDir(): string {
  return path.join(packageRoot(), 'dist', 'console');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>room-agent</title>
<p>The commissioning console is not built. Run <code>npm run build</code> (it bundles the page into dist/console/).</p>
<p>The WebSocket API at <code>/ws</code> works without it.</p>`;

class ConsoleFeature implements Feature {
  readonly name = 'console';
  constructor(ctx: AgentContext, dir: string) {
    const read = (file: string): Buffer | null => {
      // Only plain file names inside the build folder: no sub-paths, no traversal.
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$/.test(file)) return null;
      try {
        return fs.readFileSync(path.join(dir, file));
      } catch {
        return null;
      }
    };
    ctx.http.get('/', async (_req, reply) => {
      const html = read('index.html');
      reply.header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-cache');
      reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      if (!html) return reply.code(503).type(TYPES['.html']).send(NOT_BUILT);
      return reply.type(TYPES['.html']).send(html);
    });
    // Browsers ask for it on every page; the console has none (answering keeps their consoles clean).
    ctx.http.get('/favicon.ico', async (_req, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
    ctx.http.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => {
      const body = read(req.params.file);
      const type = TYPES[path.extname(req.params.file)];
      if (!body || !type) return reply.code(404).send({ error: `no console asset "${req.params.file}"` });
      // Asset names carry a content hash (build-console), so they may be cached for good.
      const hashed = /-[A-Z0-9]{8}\./.test(req.params.file);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      return reply.type(type).send(body);
    });
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** The console served from another build folder (tests build into a temp dir). */
export function consoleFrom(dir: string): FeatureFactory {
  return (ctx) => new ConsoleFeature(ctx, dir);
}

export const createConsole: FeatureFactory = (ctx) => new ConsoleFeature(ctx, consoleDir());
