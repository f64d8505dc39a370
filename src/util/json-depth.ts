// JSON nesting depth measured on the text, before JSON.parse: one pass, no
// recursion, so a body nested thousands deep is refused with a reason instead
// of overflowing the stack of whatever walks the parsed value later.

/** The deepest nesting of `[`/`{` in a JSON text (strings skipped); stops counting once past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** The stacks of jsonValueDepth's walk, and how many entries of them are kept between calls. */
let walkValues: (object | undefined)[] = [];
let walkDepths: number[] = [];
const KEPT_STACK = 256;

/**
 * The same for a value parsed from JSON (no shared references; MQTT payloads,
 * internal callers): an iterative walk that stops once past `limit`, so a value
 * nested far deeper than the stack is measured without overflowing it. Scalars are depth 0.
 */
export function jsonValueDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  if (value === null || typeof value !== 'object') return 0;
  let max = 0;
  // Two plain stacks kept from call to call (a walk runs to its end before anything else), with
  // indexed / for-in loops: every RPC call's params pass here, and a new pair of arrays per call
  // (grown at their first push) was most of what a call allocated here.
  walkValues[0] = value;
  walkDepths[0] = 1;
  let top = 1;
  let used = 1;
  while (top > 0) {
    top--;
    const v = walkValues[top] as Record<string, unknown>;
    const d = walkDepths[top];
    if (d > max) {
      max = d;
      if (max > limit) break;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child: unknown = v[i];
        if (child === null || typeof child !== 'object') continue;
        walkValues[top] = child;
        walkDepths[top++] = d + 1;
        if (top > used) used = top;
      }
      continue;
    }
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      const child = v[k];
      if (child === null || typeof child !== 'object') continue;
      walkValues[top] = child;
      walkDepths[top++] = d + 1;
      if (top > used) used = top;
    }
  }
  // The stacks keep no reference to the caller's values, and no more room than a usual call needs.
  if (used > KEPT_STACK) {
    walkValues = [];
    walkDepths = [];
  } else walkValues.fill(undefined, 0, used);
  return max;
}

/**
 * Why a text is not JSON, without quoting it: V8's messages quote part of the
 * input ("Unexpected token 's', "secret-co"... is not valid JSON"), which may
 * hold a code or token the client typed. Only the position is kept.
 */
export function jsonSyntaxReason(e: unknown): string {
  const pos = /at position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
  return pos === undefined ? 'not valid JSON' : `not valid JSON at character ${pos}`;
}
