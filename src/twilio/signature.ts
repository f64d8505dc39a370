// X-Twilio-Signature (docs/twilio.md §4): base64 of HMAC-SHA1, keyed with the
// Auth Token, over the full URL Twilio requested (port and query string as
// configured) followed by every POST parameter as name+value, sorted by name
// (then value), with no separators. Twilio has signed some URLs with the
// scheme's default port and some without, so a URL is accepted in either form
// (as Twilio's own validators do); a non-default port is always part of it.
// Hand-written on node:crypto: the check is these few lines, while Twilio's
// helper library would bring its HTTP client and dependency tree to the room PC.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedParams = ReadonlyArray<readonly [string, string]>;

export function twilioSignature(authToken: string, url: string, params: SignedParams): string {
  const sorted = [...params].sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** `url` with the scheme's default port written out and left out (the other forms Twilio may have signed). */
export function portVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme = '', authority = '', rest = ''] = m;
  const def = scheme.toLowerCase() === 'https' ? '443' : '80';
  const hostPort = /^(.*?)(?::(\d+))?$/.exec(authority);
  const host = hostPort?.[1] ?? authority;
  const port = hostPort?.[2];
  if (port && port !== def) return [url];
  const out = [`${scheme}://${host}${rest}`, `${scheme}://${host}:${def}${rest}`];
  return out.includes(url) ? out : [url, ...out];
}

/** Whether `header` is Twilio's signature of `url` + `params`; constant-time per candidate. */
export function validTwilioSignature(authToken: string, header: string | undefined, url: string, params: SignedParams): boolean {
  if (!header) return false;
  const got = Buffer.from(header, 'utf8');
  let ok = false;
  for (const candidate of portVariants(url)) {
    const want = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    // Lengths of base64 SHA-1 digests are fixed (28), so the length test leaks nothing about the token.
    if (got.length === want.length && timingSafeEqual(got, want)) ok = true;
  }
  return ok;
}
