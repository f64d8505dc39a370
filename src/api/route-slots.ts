// Feature HTTP routes that outlive a feature restart (config reload). Fastify takes routes only
// before it listens, so each route a feature registers is registered once, with stand-in
// functions (handler, hooks, body parser) that call the function of the feature's current
// generation. A restarted feature registers the same routes again into a recording; when they
// match the registered ones (same paths, same options), its functions replace the old ones.
import type { FastifyInstance } from 'fastify';

// biome-ignore lint/suspicious/noExplicitAny: stand-ins forward whatever fastify passes.
type Fn = (this: unknown, ...args: any[]) => unknown;

const ROUTE_METHODS = new Set(['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'all']);

/** What one generation of a feature asked of fastify. */
export class RouteRecording {
  /** Each call with its non-function arguments, in order: two generations with equal signatures have the same routes. */
  readonly signature: string[] = [];
  /** The generation's functions by slot key. */
  readonly fns = new Map<string, Fn>();
  /** Slot keys of route handlers (not hooks or parsers), with whether they serve a WebSocket. */
  readonly handlers = new Map<string, { websocket: boolean }>();
  /** Plugin bodies still running (a plugin registered while recording). */
  readonly pending: Promise<unknown>[] = [];
}

export class RouteSlots {
  /** Slot key → the function the stand-in calls now. */
  private readonly current = new Map<string, Fn>();
  /** Owner (a feature slot) → the recording whose routes fastify holds. */
  private readonly registered = new Map<string, RouteRecording>();

  constructor(private readonly root: FastifyInstance) {}

  /**
   * The `http` one generation of a feature sees. `live` (before the server listens): calls reach
   * fastify, with stand-ins. Otherwise they are only recorded; `fits()` then says whether
   * `swap()` can put the generation's functions in place of the registered ones.
   */
  facade(owner: string, rec: RouteRecording, live: boolean): FastifyInstance {
    if (live) this.registered.set(owner, rec);
    return this.wrap(this.root, owner, rec, live, '');
  }

  /** True when `rec` asks for exactly the routes the owner has registered (or none, for an owner with none). */
  async fits(owner: string, rec: RouteRecording): Promise<boolean> {
    await Promise.allSettled(rec.pending);
    // Compared as sets of calls: a plugin's body runs at once while recording but only at
    // `ready` when registering, so the order of calls differs between the two.
    const had = [...(this.registered.get(owner)?.signature ?? [])].sort();
    const now = [...rec.signature].sort();
    return had.length === now.length && had.every((s, i) => s === now[i]);
  }

  /** The owner has routes registered with fastify. */
  has(owner: string): boolean {
    return (this.registered.get(owner)?.signature.length ?? 0) > 0;
  }

  /** Puts a fitting recording's functions in place: requests from now on reach the new generation. */
  swap(owner: string, rec: RouteRecording): void {
    for (const [key, fn] of rec.fns) this.current.set(key, fn);
    const had = this.registered.get(owner);
    if (had) {
      for (const [key, h] of rec.handlers) had.handlers.set(key, h);
    }
  }

  /** The owner stopped for good: its routes answer 404 (WebSockets close with 1013) and its hooks pass. */
  turnOff(owner: string, why: string): void {
    const rec = this.registered.get(owner);
    if (!rec) return;
    for (const key of rec.fns.keys()) {
      const h = rec.handlers.get(key);
      if (h?.websocket) {
        this.current.set(key, (socket: { close(code: number, reason: string): void }) => socket.close(1013, why));
      } else if (h) {
        this.current.set(key, (_req: unknown, reply: { code(n: number): { send(b: unknown): unknown } }) =>
          reply.code(404).send({ error: why }),
        );
      } else if (key.includes(' hook ') || key.includes('#')) {
        this.current.set(key, async () => undefined);
      }
      // A body parser keeps its last function: it only turns bytes into a body.
    }
  }

  private standIn(key: string, fn: Fn, rec: RouteRecording): Fn {
    rec.fns.set(key, fn);
    if (!this.current.has(key)) this.current.set(key, fn);
    const current = this.current;
    const stand = function (this: unknown, ...args: unknown[]) {
      return (current.get(key) as Fn).apply(this, args);
    };
    // Fastify and its plugins read a function's arity (callback or promise style).
    Object.defineProperty(stand, 'length', { value: fn.length });
    return stand;
  }

  /** Options with each function (or array of functions) replaced by a stand-in; `shape` is the rest, for the signature. */
  private options(
    key: string,
    opts: Record<string, unknown>,
    rec: RouteRecording,
  ): { out: Record<string, unknown>; shape: unknown } {
    const out: Record<string, unknown> = {};
    const shape: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(opts)) {
      if (typeof v === 'function') {
        out[k] = this.standIn(`${key}#${k}`, v as Fn, rec);
        shape[k] = 'function';
      } else if (Array.isArray(v) && v.some((x) => typeof x === 'function')) {
        out[k] = v.map((x, i) => (typeof x === 'function' ? this.standIn(`${key}#${k}.${i}`, x as Fn, rec) : x));
        shape[k] = v.map((x) => (typeof x === 'function' ? 'function' : x));
      } else {
        out[k] = v;
        shape[k] = v;
      }
    }
    return { out, shape };
  }

  private wrap(target: FastifyInstance, owner: string, rec: RouteRecording, live: boolean, scope: string): FastifyInstance {
    let plugins = 0;
    let hooks = 0;
    const prefix = `${owner}${scope}`;
    const note = (what: Record<string, unknown>) => rec.signature.push(JSON.stringify({ scope, ...what }));
    const route = (method: string, url: string, opts: Record<string, unknown>, handler: Fn | undefined) => {
      const key = `${prefix} ${method.toUpperCase()} ${url}`;
      const { out, shape } = this.options(key, opts, rec);
      note({ route: method, url, opts: shape });
      if (handler) rec.handlers.set(key, { websocket: opts.websocket === true });
      const stand = handler ? this.standIn(key, handler, rec) : undefined;
      if (!live) return;
      // biome-ignore lint/suspicious/noExplicitAny: the shorthand route methods share one call shape.
      const t = target as any;
      if (stand) t[method](url, out, stand);
      else t[method](url, out);
    };
    const calls: Record<string, Fn> = {
      register: (plugin: Fn, opts?: unknown) => {
        const inner = `${scope}/p${plugins++}`;
        note({ register: inner, opts: opts ?? null });
        if (live) {
          const self = this;
          const wrapped = function (this: unknown, scoped: FastifyInstance, o: unknown, done: unknown) {
            return plugin.call(this, self.wrap(scoped, owner, rec, true, inner), o, done);
          };
          Object.defineProperty(wrapped, 'length', { value: plugin.length });
          return target.register(wrapped as never, opts as never);
        }
        const r = plugin(this.wrap(target, owner, rec, false, inner), opts ?? {}, () => undefined);
        if (r instanceof Promise) rec.pending.push(r);
        return facade;
      },
      route: (opts: Record<string, unknown>) => {
        const { handler, method, url, ...rest } = opts;
        const methods = Array.isArray(method) ? method : [method];
        for (const m of methods) route(String(m).toLowerCase(), String(url), rest, handler as Fn | undefined);
        return facade;
      },
      addContentTypeParser: (type: unknown, optsOrFn: unknown, maybeFn?: unknown) => {
        const key = `${prefix} parser ${JSON.stringify(type)}`;
        const fn = (typeof optsOrFn === 'function' ? optsOrFn : maybeFn) as Fn;
        const opts = typeof optsOrFn === 'function' ? {} : (optsOrFn as Record<string, unknown>);
        note({ parser: type, opts });
        const stand = this.standIn(key, fn, rec);
        if (live) target.addContentTypeParser(type as never, opts as never, stand as never);
        return facade;
      },
      addHook: (name: string, fn: Fn) => {
        const key = `${prefix} hook ${name} ${hooks++}`;
        note({ hook: name });
        const stand = this.standIn(key, fn, rec);
        if (live) target.addHook(name as never, stand as never);
        return facade;
      },
      removeAllContentTypeParsers: () => {
        note({ removeAllContentTypeParsers: true });
        if (live) target.removeAllContentTypeParsers();
        return facade;
      },
      removeContentTypeParser: (types: unknown) => {
        note({ removeContentTypeParser: types });
        if (live) target.removeContentTypeParser(types as never);
        return facade;
      },
    };
    const facade: FastifyInstance = new Proxy(target, {
      get(t, prop, receiver) {
        if (typeof prop === 'string') {
          if (Object.hasOwn(calls, prop)) return calls[prop];
          if (ROUTE_METHODS.has(prop)) {
            return (url: string, optsOrHandler?: unknown, maybeHandler?: unknown) => {
              const handler = (typeof optsOrHandler === 'function' ? optsOrHandler : maybeHandler) as Fn | undefined;
              const given =
                typeof optsOrHandler === 'function' || !optsOrHandler ? {} : (optsOrHandler as Record<string, unknown>);
              const { handler: inOpts, ...opts } = given;
              route(prop, url, opts, handler ?? (inOpts as Fn | undefined));
              return facade;
            };
          }
        }
        const v = Reflect.get(t, prop, receiver);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    return facade;
  }
}
