// POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") as found in the footer of
// TZif files (RFC 8536 §3.3): the rule for every instant after a zone's last
// listed transition. Pure: no I/O.
//
// Grammar (POSIX.1-2017 §8.3 with RFC 8536 §3.3.1's extensions: transition
// hours from −167 to 167):
//   std offset [dst [offset] [,start[/time],end[/time]]]
// Names are 3+ letters or <quoted> (<+03>); offsets count hours WEST of
// Greenwich, so "CET-1" is UTC+1. Dates are Jn (1–365, no Feb 29), n (0–365),
// or Mm.w.d (week 5 = last; day 0 = Sunday). The default time is 02:00.

export class PosixTzError extends Error {
  constructor(tz: string, why: string) {
    super(`TZ string ${JSON.stringify(tz)}: ${why}`);
    this.name = 'PosixTzError';
  }
}

type RuleDate =
  | { kind: 'J'; day: number }
  | { kind: 'n'; day: number }
  | { kind: 'M'; month: number; week: number; weekday: number };

export interface PosixTz {
  /** UTC offset of standard time, seconds east. */
  stdOffset: number;
  /** Absent: no daylight time. */
  dst?: {
    offset: number;
    start: RuleDate;
    /** Seconds after local midnight, may be negative or beyond a day. */
    startTime: number;
    end: RuleDate;
    endTime: number;
  };
}

export function parsePosixTz(tz: string): PosixTz {
  let i = 0;
  const fail = (why: string): never => {
    throw new PosixTzError(tz, `${why} at character ${i + 1}`);
  };
  const name = () => {
    if (tz[i] === '<') {
      const close = tz.indexOf('>', i);
      if (close < 0) fail('unclosed <name>');
      if (close - i - 1 < 1) fail('empty <name>');
      i = close + 1;
      return;
    }
    const start = i;
    while (i < tz.length && /[A-Za-z]/.test(tz[i]!)) i++;
    if (i - start < 3) fail('a zone name needs 3 or more letters');
  };
  const num = (max: number): number => {
    const start = i;
    while (i < tz.length && tz[i]! >= '0' && tz[i]! <= '9') i++;
    if (i === start || i - start > 3) fail('expected a number');
    const n = Number(tz.slice(start, i));
    if (n > max) fail(`number above ${max}`);
    return n;
  };
  // [+-]hh[:mm[:ss]] in seconds; `west` flips POSIX's sign convention.
  const hms = (maxHours: number, west = false): number => {
    let sign = 1;
    if (tz[i] === '+' || tz[i] === '-') sign = tz[i++] === '-' ? -1 : 1;
    let s = num(maxHours) * 3600;
    if (tz[i] === ':') {
      i++;
      s += num(59) * 60;
      if (tz[i] === ':') {
        i++;
        s += num(59);
      }
    }
    // `|| 0`: never −0, which would compare unequal to 0 in Object.is.
    return (west ? -sign : sign) * s || 0;
  };
  const date = (): RuleDate => {
    if (tz[i] === 'J') {
      i++;
      const day = num(365);
      if (day < 1) fail('Jn counts from 1');
      return { kind: 'J', day };
    }
    if (tz[i] === 'M') {
      i++;
      const month = num(12);
      if (tz[i++] !== '.') fail("expected '.'");
      const week = num(5);
      if (tz[i++] !== '.') fail("expected '.'");
      const weekday = num(6);
      if (month < 1 || week < 1) fail('month and week count from 1');
      return { kind: 'M', month, week, weekday };
    }
    return { kind: 'n', day: num(365) };
  };
  const time = (): number => {
    if (tz[i] !== '/') return 7200;
    i++;
    return hms(167);
  };

  name();
  const stdOffset = hms(24, true);
  if (i === tz.length) return { stdOffset };
  name();
  let offset = stdOffset + 3600;
  if (i < tz.length && tz[i] !== ',') offset = hms(24, true);
  // A TZ with daylight time but no rule: POSIX leaves it to the system; the
  // US rules are what glibc and tzcode assume.
  let start: RuleDate = { kind: 'M', month: 3, week: 2, weekday: 0 };
  let end: RuleDate = { kind: 'M', month: 11, week: 1, weekday: 0 };
  let startTime = 7200;
  let endTime = 7200;
  if (i < tz.length) {
    if (tz[i++] !== ',') fail("expected ','");
    start = date();
    startTime = time();
    if (tz[i++] !== ',') fail("expected ','");
    end = date();
    endTime = time();
  }
  if (i !== tz.length) fail('unexpected text');
  return { stdOffset, dst: { offset, start, startTime, end, endTime } };
}

const DAY = 86_400;

/** Seconds from the epoch to local midnight of the rule's day in `year`. */
function ruleDay(d: RuleDate, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (d.kind === 'n') return jan1 + d.day * DAY;
  if (d.kind === 'J') {
    // Feb 29 is never counted: day 60 is always March 1.
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return jan1 + (d.day - 1 + (leap && d.day >= 60 ? 1 : 0)) * DAY;
  }
  const first = Date.UTC(year, d.month - 1, 1) / 1000;
  const firstWeekday = new Date(first * 1000).getUTCDay();
  let day = 1 + ((d.weekday - firstWeekday + 7) % 7) + (d.week - 1) * 7;
  const daysInMonth = new Date(Date.UTC(year, d.month, 0)).getUTCDate();
  while (day > daysInMonth) day -= 7;
  return first + (day - 1) * DAY;
}

/** UTC offset in seconds (east positive) at `t` seconds after the epoch. */
export function posixOffsetAt(tz: PosixTz, t: number): number {
  const dst = tz.dst;
  if (!dst) return tz.stdOffset;
  const year = new Date((t + tz.stdOffset) * 1000).getUTCFullYear();
  // Checks the local year and its neighbours: a rule time past midnight can
  // move a transition across New Year.
  for (const y of [year + 1, year, year - 1]) {
    // The start is given in standard time, the end in daylight time.
    const start = ruleDay(dst.start, y) + dst.startTime - tz.stdOffset;
    const end = ruleDay(dst.end, y) + dst.endTime - dst.offset;
    if (start < end) {
      if (t >= start && t < end) return dst.offset;
      if (t >= end) return tz.stdOffset;
    } else {
      // Southern hemisphere: daylight time spans New Year.
      if (t >= start) return dst.offset;
      if (t >= end) return tz.stdOffset;
    }
  }
  return tz.stdOffset;
}
