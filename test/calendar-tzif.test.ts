// Time zones from the OS database: the POSIX TZ rule evaluator, the TZif
// reader, and zone.ts agreeing with Intl (the runtime's own tz database) on
// real zones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { intlOffsetMinutes } from '../src/calendar/intl-zone.js';
import { PosixTzError, parsePosixTz, posixOffsetAt } from '../src/calendar/posix-tz.js';
import { parseTzif, TzifError, tzifOffsetAt } from '../src/calendar/tzif.js';
import { isIanaZone, offsetMinutes, systemZone } from '../src/calendar/zone.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const H = 3600;

describe('POSIX TZ strings (POSIX.1-2017 §8.3, RFC 8536 §3.3.1)', () => {
  it.each([
    // zone rule, instant, offset in hours
    ['EST5EDT,M3.2.0,M11.1.0', '2026-03-08T06:59:59Z', -5],
    ['EST5EDT,M3.2.0,M11.1.0', '2026-03-08T07:00:00Z', -4],
    ['EST5EDT,M3.2.0,M11.1.0', '2026-11-01T05:59:59Z', -4],
    ['EST5EDT,M3.2.0,M11.1.0', '2026-11-01T06:00:00Z', -5],
    ['CET-1CEST,M3.5.0,M10.5.0/3', '2026-03-29T00:59:59Z', 1],
    ['CET-1CEST,M3.5.0,M10.5.0/3', '2026-03-29T01:00:00Z', 2],
    ['CET-1CEST,M3.5.0,M10.5.0/3', '2026-10-25T00:59:59Z', 2],
    ['CET-1CEST,M3.5.0,M10.5.0/3', '2026-10-25T01:00:00Z', 1],
    ['<+03>-3', '2026-07-01T00:00:00Z', 3],
    ['<-03>3', '2026-01-01T00:00:00Z', -3],
    ['UTC0', '2026-07-01T00:00:00Z', 0],
    // southern hemisphere: daylight time across New Year
    ['AEST-10AEDT,M10.1.0,M4.1.0/3', '2026-01-15T00:00:00Z', 11],
    ['AEST-10AEDT,M10.1.0,M4.1.0/3', '2026-04-04T15:59:59Z', 11],
    ['AEST-10AEDT,M10.1.0,M4.1.0/3', '2026-04-04T16:00:00Z', 10],
    ['AEST-10AEDT,M10.1.0,M4.1.0/3', '2026-10-03T16:00:00Z', 11],
    // Europe/Dublin: "standard" is summer time, winter is the negative DST
    ['IST-1GMT0,M10.5.0,M3.5.0/1', '2026-01-10T12:00:00Z', 0],
    ['IST-1GMT0,M10.5.0,M3.5.0/1', '2026-07-10T12:00:00Z', 1],
    // America/Nuuk: a negative transition hour (RFC 8536 extension)
    ['<-02>2<-01>,M3.5.0/-1,M10.5.0/0', '2026-03-28T23:59:59Z', -2],
    ['<-02>2<-01>,M3.5.0/-1,M10.5.0/0', '2026-03-29T01:00:00Z', -1],
    // half and three-quarter hours, explicit DST offset with minutes
    ['<+0330>-3:30', '2026-07-01T00:00:00Z', 3.5],
    ['<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45', '2026-01-01T00:00:00Z', 13.75],
    ['<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45', '2026-07-01T00:00:00Z', 12.75],
    // RFC 8536's permanent daylight time example
    ['EST5EDT,0/0,J365/25', '2026-01-01T05:00:00Z', -4],
    ['EST5EDT,0/0,J365/25', '2026-06-01T00:00:00Z', -4],
    ['EST5EDT,0/0,J365/25', '2026-12-31T23:00:00Z', -4],
    // Jn never counts Feb 29, n does: J60 is March 1, 59 is Feb 29 in a leap year
    ['XXX3YYY,J60/0,J300/0', '2028-03-01T02:59:59Z', -3],
    ['XXX3YYY,J60/0,J300/0', '2028-03-01T03:00:00Z', -2],
    ['XXX3YYY,59/0,J300/0', '2028-02-29T03:00:00Z', -2],
    // default rule time 02:00 and default DST offset (std + 1 h)
    ['EST5EDT,M3.2.0/2,M11.1.0', '2026-03-08T07:00:00Z', -4],
  ])('%s at %s is UTC%s', (tz, iso, hours) => {
    expect(posixOffsetAt(parsePosixTz(tz), at(iso))).toBe(hours * H);
  });

  it.each([
    '',
    'E5',
    'EST',
    '<EST5',
    '<>5',
    'EST5EDT,M13.1.0,M1.1.0',
    'EST5EDT,M3.0.0,M11.1.0',
    'EST5EDT,M3.2.0',
    'EST5EDT,J0,J10',
    'EST5EDT,M3.2.7,M11.1.0',
    'EST5EDT,M3.2.0/200,M11.1.0',
    'EST5 trailing',
  ])('rejects %j with a PosixTzError naming the string', (tz) => {
    expect(() => parsePosixTz(tz)).toThrow(PosixTzError);
    expect(() => parsePosixTz(tz)).toThrow(JSON.stringify(tz));
  });

  it('throws nothing but PosixTzError on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'<>+-:,./0123456789JMESTCDAB'.split('')), maxLength: 40 }), (s) => {
        try {
          const tz = parsePosixTz(s);
          expect(Number.isFinite(posixOffsetAt(tz, 1_800_000_000))).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(PosixTzError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

/** Writes a TZif file (RFC 8536 §3) with the given transitions and types. */
function tzifBytes(o: {
  version: 1 | 2;
  times: number[];
  idx: number[];
  types: number[];
  footer?: string;
  leap?: number;
}): Buffer {
  const header = (timeSize: number) => {
    const h = Buffer.alloc(44);
    h.write('TZif', 0, 'ascii');
    h[4] = o.version === 1 ? 0 : 0x32;
    for (const [k, v] of [0, 0, o.leap ?? 0, o.times.length, o.types.length, 4].entries()) h.writeUInt32BE(v, 20 + 4 * k);
    const body: Buffer[] = [h];
    for (const t of o.times) {
      const b = Buffer.alloc(timeSize);
      if (timeSize === 8) b.writeBigInt64BE(BigInt(t));
      else b.writeInt32BE(t);
      body.push(b);
    }
    body.push(Buffer.from(o.idx));
    for (const off of o.types) {
      const b = Buffer.alloc(6);
      b.writeInt32BE(off);
      body.push(b);
    }
    body.push(Buffer.from('ABC\0'));
    body.push(Buffer.alloc((o.leap ?? 0) * (timeSize + 4)));
    return Buffer.concat(body);
  };
  if (o.version === 1) return header(4);
  return Buffer.concat([header(4), header(8), Buffer.from(`\n${o.footer ?? ''}\n`)]);
}

describe('TZif reader (RFC 8536)', () => {
  const zone = { times: [100, 200, 300], idx: [1, 0, 1], types: [3600, 7200] };

  it.each([1, 2] as const)('version %i: offsets before, between and after transitions', (version) => {
    const z = parseTzif(tzifBytes({ version, ...zone }));
    expect([50, 100, 199, 200, 300, 10_000].map((t) => tzifOffsetAt(z, t))).toEqual([3600, 7200, 7200, 3600, 7200, 7200]);
  });

  it('uses the footer rule after the last transition', () => {
    const z = parseTzif(tzifBytes({ version: 2, ...zone, footer: 'EST5EDT,M3.2.0,M11.1.0' }));
    expect(tzifOffsetAt(z, 250)).toBe(3600);
    expect(tzifOffsetAt(z, at('2026-01-01T00:00:00Z'))).toBe(-5 * H);
    expect(tzifOffsetAt(z, at('2026-07-01T00:00:00Z'))).toBe(-4 * H);
  });

  it('reads a zone with no transitions from its footer', () => {
    const z = parseTzif(tzifBytes({ version: 2, times: [], idx: [], types: [0], footer: '<+05>-5' }));
    expect(tzifOffsetAt(z, 0)).toBe(5 * H);
  });

  it('accepts the whole utoff range RFC 8536 allows, [-89999, 93599]', () => {
    for (const off of [-89_999, 93_599]) {
      const z = parseTzif(tzifBytes({ version: 2, times: [], idx: [], types: [off], footer: '' }));
      expect(tzifOffsetAt(z, 0)).toBe(off);
    }
    expect(() => parseTzif(tzifBytes({ version: 1, times: [], idx: [], types: [-90_000] }))).toThrow(TzifError);
    expect(() => parseTzif(tzifBytes({ version: 1, times: [], idx: [], types: [93_600] }))).toThrow(TzifError);
  });

  it.each([
    ['bad magic', Buffer.from('TZix'.padEnd(60, '\0')), "no 'TZif' magic"],
    ['a truncated header', Buffer.from('TZif2'), 'truncated header'],
    ['a truncated body', tzifBytes({ version: 2, ...zone }).subarray(0, 80), 'truncated'],
    ['a type index out of range', tzifBytes({ version: 1, times: [1], idx: [5], types: [0] }), 'names type 5'],
    ['times out of order', tzifBytes({ version: 1, times: [5, 4], idx: [0, 0], types: [0] }), 'not ascending'],
    ['leap seconds', tzifBytes({ version: 2, ...zone, leap: 1 }), 'leap-second'],
    ['a bad footer', tzifBytes({ version: 2, ...zone, footer: 'EST5EDT,M13.1.0,M1.1.0' }), 'TZ string'],
  ])('rejects %s', (_what, bytes, message) => {
    expect(() => parseTzif(bytes)).toThrow(TzifError);
    expect(() => parseTzif(bytes)).toThrow(message);
  });

  it('throws nothing but TzifError on random or truncated input', () => {
    const real = fs.readFileSync(path.join(zoneinfo(), 'Europe/Berlin'));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(real.length),
        fc.nat(real.length - 1),
        fc.integer({ min: 0, max: 255 }),
        (noise, cut, flip, byte) => {
          for (const input of [
            Buffer.concat([Buffer.from('TZif2'), noise]),
            real.subarray(0, cut),
            Buffer.from(real).fill(byte, flip, flip + 1),
          ]) {
            try {
              const z = parseTzif(input);
              expect(Number.isFinite(tzifOffsetAt(z, 1_800_000_000))).toBe(true);
            } catch (e) {
              expect(e).toBeInstanceOf(TzifError);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

function zoneinfo(): string {
  const dir = process.env.TZDIR || '/usr/share/zoneinfo';
  if (!fs.existsSync(path.join(dir, 'Europe/Berlin')))
    throw new Error(`no time zone database in ${dir}: install Debian's tzdata`);
  return dir;
}

// Zones whose rules did not change between recent tz releases, so the OS's
// tzdata and ICU's copy agree whichever versions the machine has.
const ZONES = [
  'Europe/Moscow',
  'Europe/Berlin',
  'Europe/London',
  'Europe/Dublin',
  'America/New_York',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Asia/Novosibirsk',
  'Asia/Yekaterinburg',
];

describe('zone.ts on the OS database', () => {
  const saved = { TZ: process.env.TZ, TZDIR: process.env.TZDIR };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('agrees with Intl on real zones from 1975 to 2090, around transitions too', () => {
    zoneinfo();
    const t = fc.integer({ min: Date.UTC(1975, 0, 1), max: Date.UTC(2090, 0, 1) });
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), t, fc.integer({ min: -2, max: 2 }), (zone, ms, nudge) => {
        // Land near a transition half the time: the hour a rule fires.
        const probe = nudge === 0 ? ms : Math.floor(ms / 3_600_000) * 3_600_000 + nudge * 1000;
        expect(offsetMinutes(probe, zone)).toBe(intlOffsetMinutes(probe, zone));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads zones from $TZDIR, the OS database, before Intl', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tzdir-'));
    fs.mkdirSync(path.join(dir, 'Test'));
    fs.writeFileSync(
      path.join(dir, 'Test/Odd'),
      tzifBytes({ version: 2, times: [], idx: [], types: [4980], footer: '<+0123>-1:23' }),
    );
    process.env.TZDIR = dir;
    expect(isIanaZone('Test/Odd')).toBe(true);
    expect(offsetMinutes(Date.UTC(2026, 0, 1), 'Test/Odd')).toBe(83);
  });

  it('falls back to Intl when the OS has no time zone database', () => {
    process.env.TZDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'no-tzdata-'));
    expect(isIanaZone('Asia/Kathmandu')).toBe(true);
    expect(offsetMinutes(Date.UTC(2026, 0, 1), 'Asia/Kathmandu')).toBe(345);
    expect(isIanaZone('Nowhere/Atlantis')).toBe(false);
  });

  it('knows zone names without asking Intl about non-names', () => {
    expect(isIanaZone('Europe/Berlin')).toBe(true);
    expect(isIanaZone('UTC')).toBe(true);
    expect(isIanaZone('W. Europe Standard Time')).toBe(false);
    expect(isIanaZone('../../etc/passwd')).toBe(false);
    expect(isIanaZone('Europe')).toBe(false);
  });

  it('takes the system zone from the /etc/localtime link first, then /etc/timezone; no localtime is UTC', () => {
    delete process.env.TZ;
    const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'etc-'));
    expect(systemZone(etc)).toBe('UTC');
    fs.writeFileSync(path.join(etc, 'timezone'), 'Europe/Berlin\n');
    fs.symlinkSync(path.join(zoneinfo(), 'Asia/Tokyo'), path.join(etc, 'localtime'));
    expect(systemZone(etc)).toBe('Asia/Tokyo');
    // A copied file instead of a link: the name Debian recorded.
    fs.rmSync(path.join(etc, 'localtime'));
    fs.copyFileSync(path.join(zoneinfo(), 'Asia/Tokyo'), path.join(etc, 'localtime'));
    expect(systemZone(etc)).toBe('Europe/Berlin');
  });

  it('takes the system zone from $TZ, with or without the leading colon', () => {
    process.env.TZ = 'Asia/Tokyo';
    expect(systemZone()).toBe('Asia/Tokyo');
    process.env.TZ = ':America/New_York';
    expect(systemZone()).toBe('America/New_York');
    process.env.TZ = '';
    expect(systemZone()).toBe('UTC');
  });
});
