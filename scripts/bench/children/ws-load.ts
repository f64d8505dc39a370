// Load generator for the VISCA bench, run as a child process so its JSON and
// socket work is not billed to the agent (in a room, the Coordinator panel is
// another machine). Talks to the parent over IPC: { url, kind, n, window } in,
// { ms } or { perSecond } out.
import WebSocket from 'ws';

interface Job {
  url: string;
  kind: 'seq' | 'rate';
  n: number;
  window?: number;
  cameras: number;
}

let ws: WebSocket | null = null;
let next = 1;
const pending = new Map<number, (m: { error?: { message: string } }) => void>();

function open(url: string): Promise<WebSocket> {
  if (ws) return Promise.resolve(ws);
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url);
    s.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (typeof m.id === 'number') {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      }
    });
    s.once('open', () => {
      ws = s;
      resolve(s);
    });
    s.once('error', reject);
  });
}

function recall(s: WebSocket, cam: number, preset: number): Promise<void> {
  const id = next++;
  return new Promise((resolve, reject) => {
    pending.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve()));
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'device.action',
        params: { device: `cam-${cam + 1}`, action: 'preset.recall', params: { preset } },
      }),
    );
  });
}

async function runJob(j: Job): Promise<unknown> {
  const s = await open(j.url);
  if (j.kind === 'seq') {
    const ms: number[] = [];
    for (let i = 0; i < j.n; i++) {
      const t0 = process.hrtime.bigint();
      await recall(s, 0, (i % 100) + 1);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { ms: ms.sort((a, b) => a - b) };
  }
  let i = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: j.window ?? 64 }, async () => {
      while (i < j.n) {
        const k = i++;
        await recall(s, k % j.cameras, (k % 100) + 1);
      }
    }),
  );
  return { perSecond: j.n / (Number(process.hrtime.bigint() - t0) / 1e9) };
}

process.on('message', (j: Job) => {
  runJob(j).then(
    (r) => process.send?.(r),
    (e: Error) => process.send?.({ error: e.message }),
  );
});
process.on('disconnect', () => {
  ws?.close();
  process.exit(0);
});
