// The MQTT link logs the broker URL without userinfo, query string or
// fragment (issue 16: "URLs are logged without query strings"): a broker
// URL written with `user:password@` or `?token=` never reaches the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoggedAgent, startLoggedAgent } from './support/logged-agent.js';
import { createAedes, type TestBroker } from './sync-support.js';

const QUERY_SECRET = 'Qs7Kd2Wm9Xv4';
const USER_SECRET = 'Ui3Nf8Rb5Tz1';

let broker: TestBroker;
let t: LoggedAgent;
beforeAll(async () => {
  broker = await createAedes();
  const u = new URL(broker.url);
  const url = `mqtt://room:${USER_SECRET}@${u.host}/?access_token=${QUERY_SECRET}&keep=1#frag-${QUERY_SECRET}`;
  t = await startLoggedAgent(`[mqtt]\nurl = "${url}"\nprotocol_version = 4\nreconnect_min_ms = 100\nreconnect_max_ms = 500\n`);
}, 30_000);
afterAll(async () => {
  await t?.stop();
  await broker?.close();
});

describe('the MQTT broker URL in the log', () => {
  it('is logged on connect as scheme, host and path only', async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !t.log().includes('mqtt connected')) await new Promise((r) => setTimeout(r, 50));
    const line = t
      .log()
      .split('\n')
      .find((l) => l.includes('mqtt connected'));
    expect(line).toBeDefined();
    const logged = (JSON.parse(line as string) as { url: string }).url;
    expect(logged).toBe(`mqtt://${new URL(broker.url).host}/`);
    for (const s of [QUERY_SECRET, USER_SECRET])
      for (let i = 0; i + 4 <= s.length; i++) expect(t.log()).not.toContain(s.slice(i, i + 4));
  }, 20_000);
});
