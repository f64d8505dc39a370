import net from 'node:net';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Backoff } from '../src/transport/backoff.js';
import { DelimiterFramer, LineFramer } from '../src/transport/framing.js';
import { CommandQueue } from '../src/transport/queue.js';
import { TcpLink } from '../src/transport/tcp.js';
import { TelnetFilter } from '../src/transport/telnet.js';
import { UdpLink } from '../src/transport/udp.js';
import { FakeClock } from '../src/util/clock.js';
import { until } from './support/wait.js';

/** Splits a buffer at random points (fast-check), the way TCP may deliver it. */
const chunked = (data: Buffer) =>
  fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 20 }).map((cuts) => {
    const pts = [...new Set([0, ...cuts, data.length])].sort((a, b) => a - b);
    return pts.slice(1).map((p, i) => data.subarray(pts[i], p));
  });

describe('Backoff', () => {
  it('grows exponentially to the cap, with bounded jitter', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0, random: () => 0.5 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.integer({ min: 0, max: 30 }), (r, n) => {
        const j = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: 0.2, random: () => r });
        let d = 0;
        for (let i = 0; i <= n; i++) d = j.next();
        return d >= 0 && d <= 30_000;
      }),
    );
  });
});

describe('framers', () => {
  it('LineFramer: CR, LF and CRLF, even split across chunks', () => {
    const f = new LineFramer();
    expect(f.push('a\r')).toEqual(['a']);
    expect(f.push('\nb\nc')).toEqual(['b']);
    expect(f.push('\r\n\r\n')).toEqual(['c', '']);
  });
  it('LineFramer: any re-chunking gives the same lines', () => {
    const text = Buffer.from('~01@VID 1>2 OK\r\nOut2 In1 All\r\n\r\nPING:\n\nline\rnext\r\n');
    const whole = new LineFramer().push(text);
    fc.assert(
      fc.property(chunked(text), (chunks) => {
        const f = new LineFramer();
        return JSON.stringify(chunks.flatMap((c) => f.push(c))) === JSON.stringify(whole);
      }),
    );
  });
  it('DelimiterFramer: frames on a byte, drops oversize garbage', () => {
    const f = new DelimiterFramer(0xff, 8);
    expect(f.push(Buffer.from([0x90, 0x41, 0xff, 0x90]))).toEqual([Buffer.from([0x90, 0x41])]);
    expect(f.push(Buffer.alloc(20, 1))).toEqual([]);
    expect(f.overflowed).toBeGreaterThan(0);
    expect(f.push(Buffer.from([0x90, 0x51, 0xff]))).toEqual([Buffer.from([0x90, 0x51])]);
  });
  it('both framers report what they dropped once, with the limit', () => {
    const d = new DelimiterFramer(0xff, 8);
    expect(d.takeOverflow()).toBeNull();
    d.push(Buffer.alloc(20, 1));
    d.push(Buffer.alloc(10, 1));
    expect(d.takeOverflow()).toEqual({ bytes: 30, times: 2, limit: 8 });
    expect(d.takeOverflow()).toBeNull();
    const l = new LineFramer(16);
    expect(l.push('short\n')).toEqual(['short']);
    expect(l.takeOverflow()).toBeNull();
    l.push('x'.repeat(20));
    expect(l.push('ok\n')).toEqual(['ok']);
    expect(l.takeOverflow()).toEqual({ bytes: 20, times: 1, limit: 16 });
    expect(l.overflowed).toBe(20);
  });
  it('DelimiterFramer: random bytes never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 })), (chunks) => {
        const f = new DelimiterFramer('\0', 256);
        for (const c of chunks) f.push(Buffer.from(c));
        return true;
      }),
    );
  });
});

describe('TelnetFilter', () => {
  it('strips options, refuses every one, keeps data and escaped 255', () => {
    const f = new TelnetFilter();
    const { data, reply } = f.push(Buffer.from([255, 253, 1, 65, 255, 251, 3, 66, 255, 255, 255, 250, 24, 1, 255, 240, 67]));
    expect([...data]).toEqual([65, 66, 255, 67]);
    expect([...(reply ?? [])]).toEqual([255, 252, 1, 255, 254, 3]);
  });
  it('an option split across chunks is still handled', () => {
    const f = new TelnetFilter();
    const a = f.push(Buffer.from([65, 255]));
    const b = f.push(Buffer.from([253, 24, 66]));
    expect(Buffer.concat([a.data, b.data]).toString()).toBe('AB');
    expect([...(b.reply ?? [])]).toEqual([255, 252, 24]);
  });
});

describe('CommandQueue', () => {
  it('one request in flight; timeout rejects and moves on; failAll rejects the rest', async () => {
    const clock = new FakeClock();
    const q = new CommandQueue<string>({ timeoutMs: 100, clock });
    const sent: string[] = [];
    const a = q.request('a', () => sent.push('a'));
    const b = q.request('b', () => sent.push('b'));
    const c = q.request('c', () => sent.push('c'));
    expect(sent).toEqual(['a']);
    q.resolveCurrent('A');
    expect(await a).toBe('A');
    await Promise.resolve();
    expect(sent).toEqual(['a', 'b']);
    clock.advance(100);
    await expect(b).rejects.toThrow(/no reply within 100 ms/);
    expect(sent).toEqual(['a', 'b', 'c']);
    q.failAll(new Error('link down'));
    await expect(c).rejects.toThrow(/link down/);
    expect(q.size).toBe(0);
  });
  it('refuses beyond maxPending instead of queueing without bound', async () => {
    const q = new CommandQueue<string>({ maxPending: 2 });
    q.request('x', () => undefined).catch(() => undefined);
    q.request('y', () => undefined).catch(() => undefined);
    q.request('z', () => undefined).catch(() => undefined);
    await expect(q.request('w', () => undefined)).rejects.toThrow(/busy/);
    q.failAll(new Error('done'));
  });
});

describe('TcpLink', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  function server(port = 0): Promise<{ srv: net.Server; port: number; sockets: Set<net.Socket> }> {
    return new Promise((resolve) => {
      const sockets = new Set<net.Socket>();
      const srv = net.createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('data', (d) => s.write(d));
      });
      srv.listen(port, '127.0.0.1', () => resolve({ srv, port: (srv.address() as net.AddressInfo).port, sockets }));
    });
  }

  it('connects, reconnects after the peer drops, and after the server comes back', async () => {
    const first = await server();
    const link = new TcpLink({ host: '127.0.0.1', port: first.port, backoff: { initialMs: 20, maxMs: 100 } });
    cleanup.push(() => link.stop());
    const ups: string[] = [];
    const downs: string[] = [];
    link.on('up', (i) => ups.push(i));
    link.on('down', (r) => downs.push(r));
    const up = () => new Promise<void>((r) => link.once('up', () => r()));
    link.start();
    await up();
    const echoed = new Promise<string>((r) => link.once('data', (d) => r(d.toString())));
    link.write('hello');
    expect(await echoed).toBe('hello');
    // the peer drops the connection: the link reconnects by itself
    for (const s of first.sockets) s.destroy();
    await up();
    expect(link.reconnects).toBe(1);
    // the server goes away entirely and comes back on the same port
    for (const s of first.sockets) s.destroy();
    await new Promise<void>((r) => first.srv.close(() => r()));
    await new Promise((r) => setTimeout(r, 150));
    expect(link.connected).toBe(false);
    const second = await server(first.port);
    cleanup.push(() => new Promise<void>((r) => second.srv.close(() => r())));
    await up();
    expect(link.connected).toBe(true);
    expect(downs.length).toBeGreaterThanOrEqual(2);
    for (const s of second.sockets) s.destroy();
  });

  it('self-reconnecting: a peer that accepts and closes at once is retried with growing delays (issue 17 #2)', async () => {
    let connects = 0;
    const srv = net.createServer((s) => {
      connects++;
      s.destroy();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    const clock = new FakeClock();
    const port = (srv.address() as net.AddressInfo).port;
    const link = new TcpLink({ host: '127.0.0.1', port, clock, backoff: { initialMs: 1000, maxMs: 60_000, jitter: 0 } });
    cleanup.push(() => link.stop());
    link.start();
    // 60 s of fake time: delays 1, 2, 4, 8, 16, 32 s → at most 6 connects (a reset on every connect gave ~60).
    for (let t = 0; t < 60_000; t += 100) {
      await new Promise((r) => setTimeout(r, 1));
      clock.advance(100);
    }
    expect(connects).toBeGreaterThanOrEqual(4);
    expect(connects).toBeLessThanOrEqual(6);
  });

  it('a device that is not there is reported down, never thrown', async () => {
    const link = new TcpLink({ host: '127.0.0.1', port: 1, backoff: { initialMs: 10, maxMs: 20 } });
    cleanup.push(() => link.stop());
    const down = new Promise<string>((r) => link.once('down', r));
    link.start();
    expect(await down).toMatch(/ECONNREFUSED/);
    link.write('dropped while down'); // must not throw
  });
});

describe('UdpLink', () => {
  const udp = async (port = 0) => {
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
    return s;
  };
  it('sends and receives datagrams only from the device address', async () => {
    const dev = await udp();
    dev.on('message', (m, rinfo) => dev.send(Buffer.concat([Buffer.from('re:'), m]), rinfo.port, rinfo.address));
    const link = new UdpLink({ host: '127.0.0.1', port: dev.address().port });
    link.start();
    await new Promise<void>((r) => link.once('up', () => r()));
    const got = new Promise<string>((r) => link.once('data', (d) => r(d.toString())));
    link.write('ping');
    expect(await got).toBe('re:ping');
    await link.stop();
    dev.close();
  });

  it('connected: only the device address and port reach the driver; the rest is dropped by the kernel', async () => {
    const dev = await udp();
    const other = await udp(); // the same host, another port: e.g. another device or a stray sender
    dev.on('message', (m, rinfo) => dev.send(Buffer.concat([Buffer.from('re:'), m]), rinfo.port, rinfo.address));
    const link = new UdpLink({ host: '127.0.0.1', port: dev.address().port, connected: true });
    link.start();
    await new Promise<void>((r) => link.once('up', () => r()));
    const got: string[] = [];
    link.on('data', (d) => got.push(d.toString()));
    const local = link.localPort ?? 0;
    // The stray datagram is sent before the device's answer is asked for: were it delivered, it would come first.
    await new Promise<void>((r) => other.send('stray', local, '127.0.0.1', () => r()));
    link.write('ping');
    await until(() => got.length > 0, 'the device answer');
    expect(got).toEqual(['re:ping']);
    await link.stop();
    dev.close();
    other.close();
  });

  it('connected: a closed device port (ICMP port unreachable) neither downs the link nor stops it working', async () => {
    const gone = await udp();
    const port = gone.address().port;
    await new Promise<void>((r) => gone.close(() => r()));
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const link = new UdpLink({ host: '127.0.0.1', port, connected: true, logger });
    const downs: string[] = [];
    link.on('down', (why) => downs.push(why));
    link.start();
    await new Promise<void>((r) => link.once('up', () => r()));
    link.write('anyone?');
    await until(() => lines.some((l) => l.includes('device port unreachable')), 'the ICMP error on the socket');
    expect(link.connected).toBe(true);
    // The device comes back on its port: the same socket reaches it (a send may carry away one pending error).
    const dev = await udp(port);
    dev.on('message', (m, rinfo) => dev.send(Buffer.concat([Buffer.from('re:'), m]), rinfo.port, rinfo.address));
    const got: string[] = [];
    link.on('data', (d) => got.push(d.toString()));
    await until(
      () => {
        if (got.length === 0) link.write('ping');
        return got.length > 0;
      },
      'an answer after the device came back',
      10_000,
      50,
    );
    expect(got[0]).toBe('re:ping');
    expect(downs).toEqual([]);
    await link.stop();
    dev.close();
  });
});
