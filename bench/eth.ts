/**
 * Ethereum RPC benchmark (issue 24): one real `ordo start` process (single-validator devnet whose EVM
 * rollup funds --accounts extra accounts in genesis), driven only through its `/evm/3` endpoint.
 *
 *   setup:     deploy the ERC-20 fixture (test/fixtures/evm) with viem, spread tokens to every account
 *              (a fan-out tree, ≤ 16 transactions in flight per sender)
 *   transfers: --rate ERC-20 transfers a second for --duration s, open loop, each from the next
 *              account (viem-signed before the window, so client signing is not in it), sent with
 *              eth_sendRawTransaction; receipts are collected per block (newHeads over WebSocket →
 *              eth_getBlockReceipts), so send → receipt latency is measured without polling every hash
 *   calls:     --calls eth_call balanceOf requests, --concurrency at a time
 *
 * Output (JSON, --out FILE and stdout): {sendToReceiptP50Ms, sendToReceiptP99Ms, ethCallPerSec,
 * erc20TransfersPerSec, offeredRate, sent, receipts, failed, nodeCpuMsPerTx, nodeCpuCores, loadavg…}.
 * The node's CPU is read from /proc/<pid>/stat (user + system, all its threads incl. executor workers)
 * over the transfer window. The machine is shared: run it briefly, read the figures as indicative.
 *
 *   npm run bench:eth -- --out FILE [--accounts 1000] [--rate 200] [--duration 10] [--calls 2000]
 *                        [--concurrency 16] [--cpu-prof DIR]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex, parseEther } from 'viem';
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { WebSocket } from 'ws';
import { DEMO_BALANCE, demoEvmKey } from '../src/config/index.ts';
import { homePaths, initHome } from '../src/node/index.ts';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    accounts: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'cpu-prof': { type: 'string' },
  },
});
const ACCOUNTS = Math.max(16, Math.min(10_000, Number(args.accounts)));
const RATE = Math.max(1, Math.min(20_000, Number(args.rate)));
const DURATION = Math.max(1, Math.min(600, Number(args.duration)));
const CALLS = Math.max(1, Math.min(1_000_000, Number(args.calls)));
const CONCURRENCY = Math.max(1, Math.min(256, Number(args.concurrency)));

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHAIN_ID = 900_001;
const NS = 3;
const artifact = JSON.parse(
  readFileSync(join(REPO, 'test', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as {
  abi: Abi;
  bytecode: Hex;
};

const keyOf = (i: number): Hex =>
  `0x${createHash('sha256').update(`ordo-bench-eth-${i}`).digest('hex')}` as Hex;

interface Rc {
  status: string;
  contractAddress: Hex | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`${m}\n`);

function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

// One keep-alive pool of at most 64 sockets (the node refuses more than rpc.maxConnectionsPerAddress,
// 128, from one address): an open-loop sender must not open a socket per request when the node lags.
// Idle sockets are dropped after 3 s, before the server's 5 s keep-alive timeout closes them under a
// request (which shows as "socket hang up" / ECONNRESET).
const agent = new HttpAgent({ keepAlive: true, maxSockets: 64, timeout: 3_000 });

function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              result?: unknown;
              error?: { message: string };
            };
            if (j.error !== undefined) reject(new Error(`${method}: ${j.error.message}`));
            else resolve(j.result);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within 30 s`)));
    req.on('error', (err) => reject(new Error(`${method}: ${err.message}`)));
    req.end(body);
  });
}

function startNode(home: string): Promise<{ proc: ChildProcess; rpcUrl: string; stderr: () => string }> {
  // --cpu-prof DIR: the node writes a V8 CPU profile there when it stops (where its time goes).
  const prof = args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']];
  const proc = spawn(process.execPath, [...prof, join(REPO, 'bin', 'ordo.js'), 'start', '--home', home], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    let exited: string | undefined;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`node did not start within 60 s:\n${err.slice(-3000)}`));
    }, 60_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      if (err.length > 1_000_000) err = err.slice(-100_000);
      const m = /JSON-RPC (http:\/\/[0-9.]+:[0-9]+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, rpcUrl: m[1]!, stderr: () => (exited === undefined ? err : `${err}\n${exited}`) });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      exited = `node exited (code ${code}, signal ${signal})`;
      reject(new Error(`node exited (${code}) before starting:\n${err.slice(-3000)}`));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ordo-bench-eth-'));
  const home = join(dir, 'n0');
  initHome({
    home,
    config: {
      rpc: { listen: '127.0.0.1:0' },
      grpc: { listen: null },
      p2p: { listen: '/ip4/127.0.0.1/tcp/0' },
      log: { level: (process.env.BENCH_NODE_LOG as 'warn' | undefined) ?? 'warn' },
    },
  });
  const accounts: PrivateKeyAccount[] = Array.from({ length: ACCOUNTS }, (_, i) =>
    privateKeyToAccount(keyOf(i)),
  );
  const genesisPath = homePaths(home).genesis;
  const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as {
    rollups: { kind: string; alloc?: { address: string; balance: string }[] }[];
  };
  const evm = genesis.rollups.find((r) => r.kind === 'evm')!;
  evm.alloc = [...(evm.alloc ?? []), ...accounts.map((a) => ({ address: a.address, balance: DEMO_BALANCE }))];
  writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));

  const { proc, rpcUrl, stderr } = await startNode(home);
  const url = `${rpcUrl}/evm/${NS}`;
  const nonces = new Map<string, number>();
  const fees = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 0n, type: 'eip1559' as const };
  const sign = (a: PrivateKeyAccount, o: { to?: Hex; data?: Hex; gas: bigint }) => {
    const nonce = nonces.get(a.address) ?? 0;
    nonces.set(a.address, nonce + 1);
    return a.signTransaction({ chainId: CHAIN_ID, nonce, ...fees, ...o });
  };
  const send = (raw: Hex) => rpc(url, 'eth_sendRawTransaction', [raw]) as Promise<Hex>;
  // Receipts polled every 50 ms through the bounded pool (viem's waitForTransactionReceipt per hash
  // would open a fetch connection per hash, past the node's per-address connection limit).
  const wait = async (hashes: Hex[]) => {
    const got = new Map<Hex, Rc>();
    for (let i = 0; i < 2_400 && got.size < hashes.length; i++) {
      const todo = hashes.filter((h) => !got.has(h));
      const rcs = await Promise.all(
        todo.map((h) => rpc(url, 'eth_getTransactionReceipt', [h]) as Promise<Rc | null>),
      );
      rcs.forEach((r, k) => {
        if (r !== null) got.set(todo[k]!, r);
      });
      if (got.size < hashes.length) await sleep(50);
    }
    if (got.size < hashes.length) throw new Error(`${hashes.length - got.size} receipts missing after 120 s`);
    return hashes.map((h) => got.get(h)!);
  };

  try {
    // ---- setup: deploy, then spread tokens with a fan-out tree (≤ 16 in flight per sender)
    const deployer = privateKeyToAccount(`0x${Buffer.from(demoEvmKey(0)).toString('hex')}`);
    const deployData = encodeDeployData({
      abi: artifact.abi,
      bytecode: artifact.bytecode,
      args: ['Bench Token', 'BENCH', parseEther('1000000000')],
    });
    const [deployRc] = await wait([await send(await sign(deployer, { data: deployData, gas: 3_000_000n }))]);
    if (deployRc?.status !== '0x1' || deployRc.contractAddress === null) throw new Error('deploy failed');
    const token = deployRc.contractAddress;
    log(`token deployed at ${token}`);
    const transferData = (to: Hex, v: bigint) =>
      encodeFunctionData({ abi: artifact.abi, functionName: 'transfer', args: [to, v] });
    const holders: PrivateKeyAccount[] = [deployer];
    let next = 0;
    for (let round = 0; next < accounts.length && round < 4; round++) {
      const hashes: Hex[] = [];
      const senders = [...holders];
      for (const s of senders) {
        for (let k = 0; k < 16 && next < accounts.length; k++) {
          const to = accounts[next++]!;
          // Senders give away at most 16/17 of what they got: 1,000 tokens × 17^(3 − round) each.
          const amount = parseEther('1000') * 17n ** BigInt(Math.max(0, 3 - round));
          hashes.push(
            await send(await sign(s, { to: token, data: transferData(to.address, amount), gas: 100_000n })),
          );
          holders.push(to);
        }
      }
      const rcs = await wait(hashes);
      const bad = rcs.filter((r) => r.status !== '0x1').length;
      if (bad > 0) throw new Error(`setup round ${round}: ${bad} of ${rcs.length} token transfers failed`);
      log(`setup round ${round}: ${holders.length - 1} holders`);
    }

    // ---- transfers: pre-sign, then send open-loop at RATE
    const total = RATE * DURATION;
    const signed: Hex[] = [];
    for (let i = 0; i < total; i++) {
      const from = accounts[i % accounts.length]!;
      const to = accounts[(i + 1) % accounts.length]!;
      signed.push(await sign(from, { to: token, data: transferData(to.address, 1n), gas: 100_000n }));
    }
    log(`signed ${total} transfers; sending at ${RATE}/s for ${DURATION} s`);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let failed = 0;
    const failedSample: string[] = [];
    let lastReceiptAt = 0;
    const ws = new WebSocket(url.replace('http://', 'ws://'));
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    let fetching = Promise.resolve();
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString()) as { method?: string; params?: { result?: { number?: string } } };
      const n = msg.params?.result?.number;
      if (msg.method !== 'eth_subscription' || n === undefined) return;
      const seenAt = performance.now();
      fetching = fetching.then(async () => {
        const rcs = (await rpc(url, 'eth_getBlockReceipts', [n])) as
          | { transactionHash: string; status: string }[]
          | null;
        for (const r of rcs ?? []) {
          const t0 = sentAt.get(r.transactionHash);
          if (t0 === undefined) continue;
          sentAt.delete(r.transactionHash);
          latencies.push(seenAt - t0);
          lastReceiptAt = seenAt;
          if (r.status !== '0x1') {
            failed++;
            if (failedSample.length < 3) failedSample.push(r.transactionHash);
          }
        }
      });
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    await sleep(200);
    const load0 = loadavg();
    const hz = ticksPerSecond();
    const cpu0 = cpuTicks(proc.pid!);
    const t0 = performance.now();
    let refused = 0;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const now = performance.now();
      if (due > now) await sleep(due - now);
      const raw = signed[i]!;
      const at = performance.now();
      inflight.push(
        send(raw).then(
          (h) => {
            sentAt.set(h, at);
          },
          () => {
            refused++;
          },
        ),
      );
    }
    await Promise.all(inflight);
    for (let i = 0; i < 600 && sentAt.size > 0; i++) await sleep(100);
    await fetching;
    const cpu1 = cpuTicks(proc.pid!);
    for (const h of failedSample) {
      const tx = (await rpc(url, 'eth_getTransactionByHash', [h])) as {
        from: string;
        nonce: string;
        input: string;
      };
      const rc = (await rpc(url, 'eth_getTransactionReceipt', [h])) as { gasUsed: string };
      log(`failed ${h} from ${tx.from} nonce ${tx.nonce} gasUsed ${rc.gasUsed}`);
    }
    const window = (lastReceiptAt - t0) / 1000;
    const load1 = loadavg();
    ws.close();
    const receipts = latencies.length;
    latencies.sort((a, b) => a - b);
    const cpuSeconds = (cpu1 - cpu0) / hz;

    // ---- eth_call throughput
    const callData = encodeFunctionData({
      abi: artifact.abi,
      functionName: 'balanceOf',
      args: [accounts[0]!.address],
    });
    let done = 0;
    const c0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (done < CALLS) {
          done++;
          await rpc(url, 'eth_call', [{ to: token, data: callData }, 'latest']);
        }
      }),
    );
    const callSeconds = (performance.now() - c0) / 1000;

    const result = {
      bench: 'eth',
      date: new Date().toISOString(),
      host: { cores: availableParallelism() },
      params: {
        accounts: ACCOUNTS,
        rate: RATE,
        durationSec: DURATION,
        calls: CALLS,
        concurrency: CONCURRENCY,
      },
      sendToReceiptP50Ms: Math.round(percentile(latencies, 50)),
      sendToReceiptP99Ms: Math.round(percentile(latencies, 99)),
      ethCallPerSec: Math.round(CALLS / callSeconds),
      erc20TransfersPerSec: Math.round(receipts / window),
      offeredRate: RATE,
      sent: total,
      refused,
      receipts,
      failed,
      missing: sentAt.size,
      nodeCpuSeconds: Number(cpuSeconds.toFixed(2)),
      nodeCpuCores: Number((cpuSeconds / window).toFixed(2)),
      nodeCpuMsPerTx: Number(((cpuSeconds * 1000) / Math.max(1, receipts)).toFixed(3)),
      loadavgBefore: load0.map((x) => Number(x.toFixed(2))),
      loadavgAfter: load1.map((x) => Number(x.toFixed(2))),
      note: 'single validator, in one process; receipts timed when their block is announced (newHeads)',
    };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    process.stdout.write(text);
    if (args.out !== undefined) writeFileSync(args.out, text);
  } catch (err) {
    log(`node's log (tail):\n${stderr().slice(-4000)}`);
    throw err;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        proc.kill('SIGKILL');
        r(undefined);
      }, 10_000);
      proc.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
