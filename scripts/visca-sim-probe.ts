// One `room-agent simulate visca` process (sony-udp, motion 0) answering N sequential preset
// recalls from a plain UDP client here: the simulator's CPU per message (/proc), bytes its JS
// heap allocates per message and its scavenges (--trace-gc-nvp), with no agent in between.
//
//   npx tsx scripts/visca-sim-probe.ts                 (after npm run build; N=20000 by default)
//   SIM_BUNDLE=/path/to/cli.js npx tsx scripts/visca-sim-probe.ts   (another build, for an A/B)
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { processCpuMs, requireBundle } from './bench/support.js';

const N = Number(process.env.N ?? 20_000);
const WARM = 2_000;

async function main(): Promise<void> {
  const bundle = process.env.SIM_BUNDLE ?? requireBundle();
  const args = ['--trace-gc-nvp', '--max-semi-space-size=2', bundle, 'simulate', 'visca', 'framing=sony-udp'];
  const proc = spawn(process.execPath, [...args, 'profile=sony', 'sim_motion_ms=0', '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${out}`)));
  });
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let sequence = 0;
  let completed: (() => void) | null = null;
  // A Completion (y0 5z FF) ends a recall.
  sock.on('message', (m) => {
    if (m.length === 11 && (m[9] & 0xf0) === 0x50) completed?.();
  });
  const recall = () =>
    new Promise<void>((resolve) => {
      completed = resolve;
      sequence++;
      const frame = Buffer.from([0x01, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0x81, 0x01, 0x04, 0x3f, 0x02, sequence % 16, 0xff]);
      frame.writeUInt32BE(sequence, 4);
      sock.send(frame, port, '127.0.0.1');
    });
  for (let i = 0; i < WARM; i++) await recall();
  await new Promise((r) => setTimeout(r, 300));
  const mark = out.length;
  const cpu0 = processCpuMs(proc.pid!);
  for (let i = 0; i < N; i++) await recall();
  await new Promise((r) => setTimeout(r, 300)); // the last GC lines
  const cpu = processCpuMs(proc.pid!) - cpu0;
  const gc = out
    .slice(mark)
    .split('\n')
    .filter((l) => l.includes(' gc='));
  const allocated = gc.reduce((n, l) => n + Number(/ allocated=(\d+)/.exec(l)?.[1] ?? 0), 0);
  const scavenges = gc.filter((l) => / gc=s /.test(l));
  const pauses = scavenges.map((l) => Number(/ pause=([\d.]+)/.exec(l)?.[1] ?? 0)).sort((a, b) => a - b);
  const copied = scavenges.map(
    (l) => Number(/ semi_space_copied=(\d+)/.exec(l)?.[1] ?? 0) + Number(/ promoted=(\d+)/.exec(l)?.[1] ?? 0),
  );
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  console.log(
    `simulator, ${N} sequential recalls: cpu/message ${((cpu / N) * 1000).toFixed(1)} µs, alloc/message ${(allocated / N).toFixed(0)} B, ` +
      `scavenges ${scavenges.length} (${((scavenges.length / N) * 1000).toFixed(2)} per 1,000; pause median ${pauses[pauses.length >> 1] ?? 0} ms, ` +
      `survivors copied ${(mean(copied) / 1024).toFixed(0)} KB), mark-compacts ${gc.length - scavenges.length}`,
  );
  sock.close();
  proc.kill('SIGTERM');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
