/**
 * Transport CPU per delivered gossip message, for A/B runs of two checkouts (ADR 0210): four libp2p
 * networks of the checkout REPO in this one process, full mesh; for TICKS ticks (each followed by a
 * 2 ms sleep) every node publishes three 150-byte messages on `consensus` and, every second tick, one
 * 10 KB message on `txs`. Prints one JSON line: process CPU (user + system) and /proc read + write
 * syscalls per delivered message, the kernel share, wall time and the load average. No consensus and no
 * mempool, so the figures do not move with committed throughput the way bench:testnet's do.
 *
 *   node bench/cpu-transport.ts REPO [TICKS=600]
 *   for i in 1 2; do for r in /work/main .; do node bench/cpu-transport.ts $r; done; done
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { P2pNetwork } from '../src/p2p/index.ts';

type Factory = (opts: Record<string, unknown>) => Promise<P2pNetwork>;

const repo = resolve(process.argv[2] ?? '.');
const ticks = Number(process.argv[3] ?? 600);
const { createLibp2pNetwork } = (await import(join(repo, 'src/p2p/index.ts'))) as {
  createLibp2pNetwork: Factory;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const syscalls = (): number => {
  const s = readFileSync('/proc/self/io', 'utf8');
  return Number(/syscr: (\d+)/.exec(s)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(s)?.[1] ?? 0);
};

const nets: P2pNetwork[] = [];
const homes: string[] = [];
let delivered = 0;
for (let i = 0; i < 4; i++) {
  const home = await mkdtemp(join(tmpdir(), 'ordo-cpu-transport-'));
  homes.push(home);
  const net = await createLibp2pNetwork({
    chainId: 'cpu-transport',
    listen: '/ip4/127.0.0.1/tcp/0',
    bootstrap: nets.map((n) => n.addresses()[0]!),
    identityKeyPath: join(home, 'p2p.key'),
    heartbeatMs: 200,
  });
  const count = async () => {
    delivered++;
    return 'accept' as const;
  };
  net.subscribe('txs', count);
  net.subscribe('consensus', count);
  await net.start();
  nets.push(net);
}
const meshed = () =>
  nets.every((n) => n.topicPeers('txs').length === 3 && n.topicPeers('consensus').length === 3);
for (let i = 0; i < 100 && !meshed(); i++) await sleep(100);
await sleep(1500);

const cpu0 = process.cpuUsage();
const sys0 = syscalls();
const t0 = Date.now();
delivered = 0;
let seq = 0;
const message = (bytes: number): Uint8Array => {
  const b = new Uint8Array(bytes);
  new DataView(b.buffer).setFloat64(0, ++seq); // distinct content: the replay guard drops repeats
  return b;
};
for (let tick = 1; tick <= ticks; tick++) {
  for (const n of nets) {
    if (tick % 2 === 0) void n.publish('txs', message(10_000)).catch(() => {});
    for (let v = 0; v < 3; v++) void n.publish('consensus', message(150)).catch(() => {});
  }
  await sleep(2);
}
for (let i = 0; i < 250 && delivered < seq * 3; i++) await sleep(20);
const wallSec = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sys = syscalls() - sys0;
process.stdout.write(
  `${JSON.stringify({
    repo,
    published: seq,
    delivered,
    expected: seq * 3,
    cpuMicrosPerDelivery: +((cpu.user + cpu.system) / delivered).toFixed(2),
    kernelShare: +(cpu.system / (cpu.user + cpu.system)).toFixed(3),
    syscallsPerDelivery: +(sys / delivered).toFixed(3),
    wallSec,
    loadavg: loadavg()[0],
  })}\n`,
);
for (const n of nets) await n.stop();
for (const h of homes) await rm(h, { recursive: true, force: true });
process.exit(0);
