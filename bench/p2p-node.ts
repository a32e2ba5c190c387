/**
 * One benchmark node, run as its own OS process by bench/p2p.ts and driven over IPC (`process.send`).
 * It starts a libp2p Network with TxGossip, submits 200-byte transactions when told (batched through
 * TxGossip, or raw: one gossip message per transaction), counts transactions delivered to it (its own
 * submissions count as delivered at submit time) and reports latency samples taken from the submit
 * timestamp embedded in each payload (all processes share one machine clock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTxBatch } from '../src/codec/index.ts';
import type { P2pNetwork } from '../src/p2p/index.ts';
import { createLibp2pNetwork, TxGossip } from '../src/p2p/index.ts';
import type { TxEnvelope } from '../src/types.ts';

export type Mode = 'batched' | 'raw';

export type ParentMsg =
  | {
      cmd: 'start';
      index: number;
      bootstrap: string[];
      chainId: string;
      batch: { maxTxs: number; maxBytes: number; flushMs: number };
      mesh?: { D: number; Dlo: number; Dhi: number };
    }
  | { cmd: 'status' }
  | { cmd: 'run'; mode: Mode; round: number; count: number; ratePerSec: number; sampleEvery: number }
  | { cmd: 'stop' };

export type ChildMsg =
  | { type: 'started'; addr: string; peerId: string }
  | { type: 'status'; peers: number; txTopicPeers: number; cpuMicros: number }
  | { type: 'progress'; round: number; delivered: number; submitted: number }
  | {
      type: 'done';
      round: number;
      delivered: number;
      dropped: number;
      /** [originIndex, seq, submitMs, deliverMs] for sampled transactions. */
      samples: [number, number, number, number][];
    }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const TX_BYTES = 200;
const now = () => performance.timeOrigin + performance.now();

function send(m: ChildMsg): void {
  process.send?.(m);
}

let net: P2pNetwork | undefined;
let gossip: TxGossip | undefined;
let home: string | undefined;
let index = 0;
interface RoundState {
  expected: number;
  delivered: number;
  sampleEvery: number;
  /** Per origin node, one flag byte per sequence number (grown on demand). */
  seen: Uint8Array[];
  samples: [number, number, number, number][];
  done: boolean;
}
/** Per round, created by whichever comes first: the parent's run command or a peer's transaction. */
const rounds = new Map<number, RoundState>();
let dropped = 0;

function roundState(round: number): RoundState {
  let st = rounds.get(round);
  if (st === undefined) {
    st = { expected: -1, delivered: 0, sampleEvery: 10, seen: [], samples: [], done: false };
    rounds.set(round, st);
    rounds.delete(round - 2); // keep memory bounded
  }
  return st;
}

/** Payload layout: round u16 | origin u8 | mode u8 | seq u32 | submit time f64 | filler. */
function makeTx(round: number, mode: Mode, seq: number): TxEnvelope {
  const payload = new Uint8Array(TX_BYTES);
  const dv = new DataView(payload.buffer);
  dv.setUint16(0, round);
  dv.setUint8(2, index);
  dv.setUint8(3, mode === 'raw' ? 1 : 0);
  dv.setUint32(4, seq);
  dv.setFloat64(8, now());
  payload.fill(0xab, 16);
  return { namespace: 1, payload };
}

function admit(tx: TxEnvelope): boolean {
  const p = tx.payload;
  if (p.byteLength !== TX_BYTES) return false;
  const round = (p[0]! << 8) | p[1]!;
  const st = roundState(round);
  const origin = p[2]!;
  const seq = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
  let flags = st.seen[origin];
  if (flags === undefined || flags.length <= seq) {
    const grown = new Uint8Array(Math.max(seq + 1, (flags?.length ?? 0) * 2, 1024));
    if (flags !== undefined) grown.set(flags);
    st.seen[origin] = flags = grown;
  }
  if (flags[seq] === 1) return false;
  flags[seq] = 1;
  st.delivered++;
  if (seq % 10 === 0) {
    const submitted = new DataView(p.buffer, p.byteOffset + 8, 8).getFloat64(0);
    st.samples.push([origin, seq, submitted, now()]);
  }
  maybeFinish(round, st);
  return true;
}

function maybeFinish(round: number, st: RoundState): void {
  if (st.done || st.delivered !== st.expected) return;
  st.done = true;
  const samples = st.samples.filter(([, seq]) => seq % st.sampleEvery === 0);
  send({ type: 'done', round, delivered: st.delivered, dropped, samples });
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(m: Extract<ParentMsg, { cmd: 'run' }>): Promise<void> {
  const n = net!;
  const st = roundState(m.round);
  st.expected = m.count * 4;
  st.sampleEvery = Math.max(10, m.sampleEvery);
  maybeFinish(m.round, st);
  const chunk = m.ratePerSec > 0 ? Math.max(1, Math.round(m.ratePerSec / 200)) : 256; // every 5 ms when paced
  const start = now();
  let inflight = 0;
  for (let seq = 0; seq < m.count; ) {
    const end = Math.min(m.count, seq + chunk);
    for (; seq < end; seq++) {
      const tx = makeTx(m.round, m.mode, seq);
      admit(tx); // our own submission is delivered to us at once
      if (m.mode === 'batched') {
        gossip!.push(tx);
      } else {
        inflight++;
        n.publish('txs', encodeTxBatch([tx])).then(
          () => inflight--,
          () => {
            inflight--;
            dropped++;
          },
        );
      }
    }
    if (m.ratePerSec > 0) {
      const due = start + (seq / m.ratePerSec) * 1000;
      const wait = due - now();
      await (wait > 0 ? sleep(wait) : yieldLoop());
    } else {
      await yieldLoop();
      for (let i = 0; i < 1000 && inflight > 512; i++) await yieldLoop();
    }
  }
  if (m.mode === 'batched') await gossip!.flush();
  send({ type: 'progress', round: m.round, delivered: st.delivered, submitted: m.count });
}

process.on('message', (raw) => {
  const m = raw as ParentMsg;
  void (async () => {
    try {
      if (m.cmd === 'start') {
        index = m.index;
        home = await mkdtemp(join(tmpdir(), `ordo-bench-p2p-${index}-`));
        net = await createLibp2pNetwork({
          chainId: m.chainId,
          listen: '/ip4/127.0.0.1/tcp/0',
          bootstrap: m.bootstrap,
          identityKeyPath: join(home, 'p2p.key'),
          heartbeatMs: 200,
          ...(m.mesh !== undefined ? { mesh: m.mesh } : {}),
        });
        gossip = new TxGossip({
          network: net,
          admit,
          ...m.batch,
          maxQueuedBatches: 1024,
        });
        await net.start();
        send({ type: 'started', addr: net.addresses()[0]!, peerId: net.peerId });
      } else if (m.cmd === 'status') {
        send({
          type: 'status',
          peers: net?.peers().length ?? 0,
          txTopicPeers: net?.topicPeers('txs').length ?? 0,
          cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
        });
      } else if (m.cmd === 'run') {
        await run(m);
      } else if (m.cmd === 'stop') {
        await gossip?.stop();
        await net?.stop();
        if (home !== undefined) await rm(home, { recursive: true, force: true });
        send({ type: 'stopped' });
        process.disconnect?.();
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
  })();
});

process.on('disconnect', () => {
  void (async () => {
    await net?.stop().catch(() => {});
    process.exit(0);
  })();
});
