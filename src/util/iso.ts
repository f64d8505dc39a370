const DAY_MS = 86_400_000;
// Every stored tracking event, insight call, device state change and audit row
// formats a time, and Date#toISOString is slow next to the rest of that work: the date part is
// formatted once per day and the time of day by hand. The text up to the
// seconds is also kept per second (a direct-mapped cache), so most calls are
// one concatenation: one small cons string instead of a chain of nine. The kept
// text is one flat string (built by Array#join): a template literal would keep
// its chain of cons strings, ~190 bytes a slot instead of ~40, and the 4,096
// slots fill over the first 68 minutes of a running agent.
let dayStart = Number.NaN;
let dayText = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const SECONDS = 4096;
const secKeys = new Float64Array(SECONDS).fill(Number.NaN);
const secTexts: string[] = new Array<string>(SECONDS).fill('');
const MILLIS = Array.from({ length: 1000 }, (_, m) => `${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`);

/** Epoch ms → ISO 8601 UTC with milliseconds (exactly Date#toISOString); null stays null. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  if (ms === null) return null;
  if (!Number.isInteger(ms) || Math.abs(ms) > 8.64e15) return new Date(ms).toISOString();
  const milli = ((ms % 1000) + 1000) % 1000;
  const sec = (ms - milli) / 1000;
  const slot = sec & (SECONDS - 1);
  if (secKeys[slot] !== sec) {
    secKeys[slot] = sec;
    secTexts[slot] = secondText(ms - milli);
  }
  return secTexts[slot] + MILLIS[milli];
}

/** "YYYY-MM-DDTHH:MM:SS." of a whole second. */
function secondText(ms: number): string {
  let d = ms - dayStart;
  if (!(d >= 0 && d < DAY_MS)) {
    dayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
    const t = new Date(dayStart).toISOString();
    dayText = t.slice(0, t.indexOf('T') + 1);
    d = ms - dayStart;
  }
  const sec = d / 1000;
  return [dayText, pad2(Math.floor(sec / 3600)), ':', pad2(Math.floor(sec / 60) % 60), ':', pad2(sec % 60), '.'].join('');
}
