// Stream URLs without their secrets, for answers, status and logs. Pure.
//
// The userinfo of `scheme://user:pass@host/path` ends at the LAST `@` of the
// authority (the text up to the first `/`, `?` or `#`), the way go2rtc (Go's
// net/url) and ffmpeg (av_url_split) read it: `rtsp://admin:p1@p2@cam/live`
// has the password `p1@p2` and the host `cam`. A password holding an
// unescaped `/`, `?` or `#` makes the URL unparseable for them; we still hide
// everything up to the last `@`. Query and fragment parameters whose name
// looks like a credential are removed, not masked.

/** Name words that make a query parameter a credential (case-insensitive). */
const SECRET_WORDS = new Set([
  'auth',
  'authorization',
  'code',
  'credential',
  'credentials',
  'hash',
  'key',
  'login',
  'pass',
  'passcode',
  'passwd',
  'password',
  'pin',
  'pw',
  'pwd',
  'secret',
  'session',
  'sessionid',
  'sid',
  'sig',
  'signature',
  'token',
  'user',
  'username',
]);
/** Parts that make a name a credential wherever they appear in it (`accesstoken`, `X-Amz-Signature`). */
const SECRET_PARTS = /token|secret|passw|passcode|apikey|api_key|signature|sessionid|credential|auth|(key|pass|pwd|sig)$/i;

/** True for a query parameter name that may carry a credential (token, access_token, apikey, sig, …). */
export function isSecretParam(rawName: string): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    // keep the raw name
  }
  if (SECRET_PARTS.test(name)) return true;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.has(w)) || SECRET_WORDS.has(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** `a=1&token=x&b` without the credential-like parameters (null when none is left). */
function filterParams(params: string): string | null {
  const kept = params.split('&').filter((pair) => pair !== '' && !isSecretParam(pair.split('=')[0]));
  return kept.length > 0 ? kept.join('&') : null;
}

interface SplitUrl {
  /** `rtsp://` */
  scheme: string;
  /** The userinfo (without the `@`), or null. */
  userinfo: string | null;
  /** host[:port] and path, without query and fragment. */
  rest: string;
  query: string | null;
  fragment: string | null;
}

function split(url: string): SplitUrl | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return null;
  const scheme = m[1];
  let body = m[2];
  let userinfo: string | null = null;
  const authorityEnd = body.search(/[/?#]/);
  const authority = authorityEnd < 0 ? body : body.slice(0, authorityEnd);
  // The authority's last `@` is where go2rtc and ffmpeg end the userinfo. A
  // password with an unescaped `/`, `?` or `#` (or `@` after them) makes that
  // ambiguous: with anything credential-like before, hide up to the last `@`.
  const last = authority.includes('@') || authority.includes(':') ? body.lastIndexOf('@') : -1;
  if (last >= 0) {
    userinfo = body.slice(0, last);
    body = body.slice(last + 1);
  } else if (/^[^[\]:]+:(?!\d*$)/.test(authority)) {
    // `user:pass` with no host after it: the whole authority may be secret.
    userinfo = authority;
    body = body.slice(authority.length);
  }
  let fragment: string | null = null;
  const hash = body.indexOf('#');
  if (hash >= 0) {
    fragment = body.slice(hash + 1);
    body = body.slice(0, hash);
  }
  let query: string | null = null;
  const q = body.indexOf('?');
  if (q >= 0) {
    query = body.slice(q + 1);
    body = body.slice(0, q);
  }
  return { scheme, userinfo, rest: body, query, fragment };
}

function join(u: SplitUrl, userinfo: string): string {
  const query = u.query === null ? null : filterParams(u.query);
  const fragment = u.fragment === null ? null : u.fragment.includes('=') ? filterParams(u.fragment) : u.fragment;
  return `${u.scheme}${userinfo}${u.rest}${query === null ? '' : `?${query}`}${fragment === null ? '' : `#${fragment}`}`;
}

const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/**
 * A source URL for viewers: user and password removed, credential-like query
 * and fragment parameters removed. URLs inside go2rtc sources
 * (`ffmpeg:rtsp://…#video=h264`) are treated the same; other text is kept.
 */
export function redactUrl(source: string): string {
  return source.replace(URL_IN_TEXT, (url) => {
    const u = split(url);
    return u ? join(u, '') : url;
  });
}

/** Every URL inside a line of text (ffmpeg's or go2rtc's output): userinfo shown as `***@`, credential params removed. */
export function redactUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    const u = split(url);
    return u ? join(u, u.userinfo === null ? '' : '***@') : url;
  });
}
