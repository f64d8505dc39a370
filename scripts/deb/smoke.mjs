// Talks to an installed agent from outside its chroot: `seed` makes a meeting
// and an audited camera action, `verify` checks both are there (after an upgrade).
// Usage: node scripts/deb/smoke.mjs seed|verify <url> <admin-token> [ingest-token]
import WebSocket from 'ws';

const [mode, url, admin, ingest] = process.argv.slice(2);

async function waitHealthy() {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return r.json();
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/healthz never answered`);
}

function rpc() {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${encodeURIComponent(admin)}`);
  let id = 0;
  const pending = new Map();
  ws.on('message', (m) => {
    const msg = JSON.parse(m.toString());
    pending.get(msg.id)?.(msg);
  });
  const open = new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('close', (c) => rej(new Error(`ws closed ${c}`)));
  });
  return {
    async call(method, params) {
      await open;
      const n = ++id;
      const reply = await new Promise((res) => {
        pending.set(n, res);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }));
      });
      if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
      return reply.result;
    },
    close: () => ws.close(),
  };
}

const events = [
  { event: 'conf.create.succ', id: 'deb-conf-1', begin_time: 1763812800, user_data: '{"meeting":"DEB-1"}' },
  {
    event: 'conf.joined',
    id: 'deb-conf-1',
    join_time: 1763812810,
    call_id: 'call-1',
    part_uri: '+7000',
    user_data: '{"person":"p-1"}',
  },
];

await waitHealthy();
const c = rpc();
if (mode === 'seed') {
  for (let i = 0; i < 100; i++) {
    const d = await c.call('devices.get', { device: 'cam-1' });
    if (d.status.status === 'online') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 2 } });
  const r = await fetch(`${url}/hooks/conference`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` },
    body: JSON.stringify(events),
  });
  if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
  console.log('seeded: 1 audited action, meeting DEB-1');
} else if (mode === 'verify') {
  const audit = await c.call('audit.list', { device: 'cam-1' });
  if (!audit.some((a) => a.action === 'preset.recall' && a.ok)) throw new Error('audit row for preset.recall is missing');
  const r = await fetch(`${url}/api/meetings/DEB-1`, { headers: { authorization: `Bearer ${admin}` } });
  if (r.status !== 200) throw new Error(`meeting DEB-1 answered ${r.status}`);
  const m = await r.json();
  if (!m.participants?.length) throw new Error(`meeting DEB-1 has no participants: ${JSON.stringify(m)}`);
  console.log(`verified: audit rows ${audit.length}, meeting DEB-1 with ${m.participants.length} participant(s)`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
c.close();
