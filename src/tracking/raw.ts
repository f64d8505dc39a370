// The JSON text of each event of a webhook body, as received, for the event
// log. JSON.stringify of each parsed event cost ~0.8 µs and ~600 bytes of
// garbage per batch event; slices of the body text are views into it.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The texts of a body that JSON.parse accepted: `[count]` elements of a
 * top-level array, or the whole body for an object. Undefined for anything
 * else (the caller then stringifies what it parsed).
 */
export function eventTexts(body: string, count: number): string[] | undefined {
  let i = skipSpace(body, 0);
  const first = body.charCodeAt(i);
  if (first === 0x7b /* { */) return count === 1 ? [body.trim()] : undefined;
  if (first !== 0x5b /* [ */) return undefined;
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let last = -1; // last non-space character of the current element
  for (; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (depth === 1 && start === -1 && c !== 0x5d /* ] */) start = i;
    if (c === QUOTE) {
      i = stringEnd(body, i);
      last = i;
      continue;
    }
    if (c === 0x5b || c === 0x7b) {
      depth++;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
      if (depth === 0) {
        if (start !== -1) out.push(body.slice(start, last + 1));
        break;
      }
    } else if (c === 0x2c /* , */ && depth === 1) {
      out.push(body.slice(start, last + 1));
      start = -1;
      continue;
    }
    last = i;
  }
  return out.length === count ? out : undefined;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) break;
    i++;
  }
  return i;
}

/** Index of the quote that closes the string opening at `open` (a quote preceded by an even run of backslashes). */
function stringEnd(s: string, open: number): number {
  let j = s.indexOf('"', open + 1);
  for (;;) {
    if (j === -1) return s.length; // unterminated: not JSON.parse's input
    let k = j - 1;
    while (s.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j = s.indexOf('"', j + 1);
  }
}
