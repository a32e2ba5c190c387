/**
 * The MEV auction in the node (issue #23, docs/auction.md "Wiring"): created only when genesis enables
 * it. Holds the book (src/auction state, persisted in the store under `auction`) and the builder's
 * auction source (src/builder/auction-source.ts), and gives the node what it wires:
 *
 * - the auction lane: an extra opaque "rollup" (AUCTION_NAMESPACE, genesis `auction.lane` caps) for the
 *   mempool and the ingress, whose admission is decode + `book.check` (ingress) or decode + signatures
 *   (gossip, which may run ahead of or behind this node's state);
 * - the proposer's view of the mempool: at most `lane.maxTxsPerBlock` auction transactions, reveals first;
 * - commit ordering: once h is decided (before the store has written it, ADR 0215; again on commit for
 *   blocks that arrive by sync, a no-op when applied), `book.apply(block, await source.resolved(block))`,
 *   retried while the resolution is not ready (the executor still at h - 2), in order, after
 *   re-applying the heights the store holds beyond the persisted book;
 * - the execution gate: the executor runs block h only once the book has applied h and written its
 *   record (fsynced only when slot h was resolved with executor verdicts; any other height a restart
 *   re-applies from the stored block alone), so the state the source simulates slot h + 1 on (after h)
 *   is still there when it needs it, also after a crash;
 * - once h is applied, the resolution of slot h + 1 is started at once (validators then have it when the
 *   proposal arrives);
 * - the source's `simulate` on the state after h: wait (bounded) until the executor has executed h - 1
 *   in the rollups the bundle's legs name (not every rollup: the others' execution is not needed to judge
 *   this bundle), then `executor.simulate(bundle, {height: h, timeMs, pending: block h})`: where those
 *   rollups are still at h - 1 the executor runs block h's slices in memory first (ADR 0195), so the
 *   execution of h (which waits for the gate) is not on the path to the proposal of h + 1.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import {
  type AuctionState,
  decodeOutcomeRecords,
  openAuctionBook,
  verifyAuctionTxSignatures,
} from '../auction/index.ts';
import { type AuctionSourceService, createAuctionSource } from '../builder/index.ts';
import { AUCTION_NAMESPACE, decodeAuctionTx, LIMITS, type RollupAuctionOutcome } from '../codec/index.ts';
import { auctionSetupOf, type Genesis, type RollupConfig } from '../config/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import type { Executor, PendingBlock } from '../exec/index.ts';
import type { BlockStore } from '../store/index.ts';
import type { AdmitResult, Block, TxEnvelope } from '../types.ts';

/** The first byte of an AuctionTx whose body is a reveal (field 2, length-delimited). */
const REVEAL_TAG = (2 << 3) | 2;
/** How long the execution gate and the apply loop wait per attempt before logging and trying again. */
const GATE_WAIT_MS = 500;
/** Pause between attempts to resolve a committed slot whose resolution is not ready. */
const RETRY_MS = 100;
/** Bound on waiting for the executor before simulating a bid's bundle. */
const SIM_WAIT_MS = 2_000;
/** How often a simulation waiting for some rollups' execution of a height looks at their heads. */
const LANE_POLL_MS = 2;
/** Applied blocks kept for the overlay simulation (slot h + 1 needs block h; a few more for retries). */
const PENDING_KEPT = 4;

export interface NodeAuctionDeps {
  genesis: Genesis;
  store: BlockStore;
  executor: Executor;
  /** The executor's highest executed height, and a subscription to newly executed heights. */
  executedHeight(): number;
  onExecuted(listener: (height: number) => void): () => void;
  logger: Logger;
  registry: Registry;
  /** The book cannot go on (a persistence failure, a block out of order): the node stops. */
  onFatal(err: unknown): void;
}

export interface NodeAuction {
  book: AuctionState;
  source: AuctionSourceService;
  /** The auction lane as a registry entry (mempool and ingress only; never the executor or the adapter). */
  lane: RollupConfig;
  /** Ingress admission of an auction-namespace transaction (undefined: admit). */
  admission(tx: TxEnvelope): { code: 'INVALID_TX'; message: string } | undefined;
  /** Gossip admission of an auction-namespace transaction: stateless checks only. */
  gossipCheck(tx: TxEnvelope): AdmitResult | undefined;
  /**
   * The proposer's reap: auction transactions capped per block, reveals first. Ones that can never be
   * valid again (window passed, nonce used) are left out and handed to `drop` (the mempool forgets them).
   */
  capReap(txs: TxEnvelope[], drop?: (tx: TxEnvelope, why: string) => void): TxEnvelope[];
  /**
   * The auction outcome of a committed height (records of sold rollups, by namespace) for the adapter:
   * [] when the slot sold nothing, undefined when this node does not know the height.
   */
  outcome(height: number): Promise<readonly RollupAuctionOutcome[] | undefined>;
  /**
   * Re-applies the heights the store committed beyond the persisted book (a crash between the two).
   * The node calls it once at start, after a damaged store was repaired from peers (the replay reads
   * those blocks) and before any block commits.
   */
  replayStored(): void;
  /** A block committed: apply it to the book (in order, after any replay). */
  committed(block: Block): void;
  /** Resolves once the book has applied `height` (waits as long as it takes; rejects on stop). */
  gate(height: number): Promise<void>;
  stop(): Promise<void>;
}

export async function createNodeAuction(deps: NodeAuctionDeps): Promise<NodeAuction | undefined> {
  const setup = auctionSetupOf(deps.genesis);
  if (setup === undefined) return undefined;
  const log = deps.logger.child({ module: 'auction' });
  const { store, executor } = deps;
  // Outcome records of nodes that stored them apart (before they went into the book's batch).
  const legacyOutcomes = store.sub('auction-outcome');
  const book = await openAuctionBook({
    setup,
    // Fsynced only for slots resolved with executor verdicts (docs/auction.md, ADR 0170).
    kv: store.sub('auction', { sync: false }),
    durableKv: store.sub('auction'),
    // A height's records go in the batch that commits its block: no write (or fsync) of the book's own
    // while the book applies at decision, ahead of the store (ADR 0215).
    ...(store.attachToCommit !== undefined && store.subKey !== undefined
      ? {
          attach: (height: number, writes: { key: Uint8Array; value: Uint8Array | undefined }[]) =>
            store.attachToCommit?.(
              height,
              writes.map((w) => ({ key: store.subKey!('auction', w.key), value: w.value })),
            ),
        }
      : {}),
    registry: deps.registry,
    logger: deps.logger,
  });
  let stopping = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function waitExecuted(height: number, timeoutMs: number): Promise<void> {
    if (deps.executedHeight() >= height) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = deps.onExecuted((h) => {
        if (h < height) return;
        clearTimeout(timer);
        off();
        resolve();
      });
      const timer = setTimeout(() => {
        off();
        reject(
          new OrdoError(
            'AUCTION_EXEC_NOT_READY',
            `the executor has executed height ${deps.executedHeight()}, not ${height}, after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    });
  }

  const executed = new Set(executor.executedNamespaces());
  const simState = new Counter({
    name: 'ordo_auction_simulation_state_total',
    help: "Auction bid simulations by the state height's execution when asked: executed (the bundle's rollups had executed it), in_memory (the committed block was run in memory first, ADR 0195)",
    labelNames: ['state'],
    registers: [deps.registry],
  });
  /** The last few applied blocks (the in-memory simulation's block h), as the executor takes them once asked. */
  const recentBlocks = new Map<number, { block: Block; pending?: PendingBlock }>();
  function noteBlock(block: Block): void {
    const h = block.header.height;
    if (!recentBlocks.has(h)) recentBlocks.set(h, { block });
    for (const k of recentBlocks.keys()) if (k < h - PENDING_KEPT) recentBlocks.delete(k);
  }
  async function pendingBlock(height: number): Promise<PendingBlock | undefined> {
    let e = recentBlocks.get(height);
    if (e === undefined) {
      const block = await store.getBlock(height);
      if (block === undefined) return undefined;
      e = { block };
    }
    if (e.pending === undefined) {
      const txs = new Map<number, Uint8Array[]>();
      for (const ns of executed) txs.set(ns, []);
      for (const tx of e.block.txs) txs.get(tx.namespace)?.push(tx.payload);
      e.pending = { height, timeMs: e.block.header.timeMs, txs, spans: e.block.bundles };
    }
    return e.pending;
  }
  /**
   * Waits until every executed rollup in `namespaces` has executed `height` (the executor announces
   * whole blocks only, so the lanes' heads are looked at every LANE_POLL_MS meanwhile).
   */
  async function waitLanes(namespaces: readonly number[], height: number, timeoutMs: number): Promise<void> {
    const lanes = namespaces.filter((ns) => executed.has(ns));
    const ready = () =>
      deps.executedHeight() >= height || lanes.every((ns) => executor.head(ns).height >= height);
    const deadline = performance.now() + timeoutMs;
    while (!ready()) {
      if (stopping) throw new OrdoError('SHUTTING_DOWN', 'the node is stopping');
      if (performance.now() > deadline) return waitExecuted(height, 0);
      await sleep(LANE_POLL_MS);
    }
  }

  const source = createAuctionSource({
    chainId: setup.chainId,
    book,
    rollups: deps.genesis.rollups,
    simulate: async (stateHeight, bundle, timeMs) => {
      const namespaces = bundle.legs.map((l) => l.namespace);
      // The rollups at stateHeight - 1 are enough: the executor runs block stateHeight in memory over them.
      await waitLanes(namespaces, stateHeight - 1, SIM_WAIT_MS);
      const behind = namespaces.some((ns) => executed.has(ns) && executor.head(ns).height < stateHeight);
      const pending = behind && stateHeight >= 1 ? await pendingBlock(stateHeight) : undefined;
      simState.inc({ state: pending === undefined ? 'executed' : 'in_memory' });
      return executor.simulate(bundle, {
        height: stateHeight,
        timeMs,
        ...(pending !== undefined ? { pending } : {}),
      });
    },
    // A decided block is applied before the store has written it (ADR 0215): the recent blocks first.
    blockTimeMs: async (height) => {
      if (height < 1) return undefined;
      const block = recentBlocks.get(height)?.block ?? (await store.getBlock(height));
      if (block === undefined)
        throw new OrdoError('AUCTION_NOT_READY', `block ${height} is neither applied recently nor stored`);
      return block.header.timeMs;
    },
    onMismatch: (height, mine, committed) =>
      log.error(
        {
          height,
          mine: Buffer.from(mine).toString('hex'),
          committed: Buffer.from(committed).toString('hex'),
        },
        "committed auction_hash differs from this node's resolution of the slot; settling the committed block with this node's resolution",
      ),
    registry: deps.registry,
    maxTxsPerBlock: setup.lane.maxTxsPerBlock,
  });

  const lane: RollupConfig = {
    namespace: AUCTION_NAMESPACE,
    name: 'auction',
    kind: 'opaque',
    weight: 1,
    maxTxBytes: LIMITS.maxAuctionTxBytes,
    maxPendingTxs: setup.lane.maxPendingTxs,
    maxPendingBytes: setup.lane.maxPendingBytes,
  };

  /** Why an auction transaction can never go in a block again (cheap: decode, no signatures). */
  function stale(tx: TxEnvelope): string | undefined {
    let t: ReturnType<typeof decodeAuctionTx>;
    try {
      t = decodeAuctionTx(tx.payload);
    } catch (err) {
      return errorMessage(err);
    }
    const next = book.appliedHeight() + 1;
    const p = setup!.params;
    switch (t.kind) {
      case 'commit':
        return next > t.commit.slot - p.commitOffset ? 'commit window passed' : undefined;
      case 'reveal':
        return next > t.reveal.slot - p.revealOffset ? 'reveal window passed' : undefined;
      case 'deposit':
        return t.deposit.nonce < book.info().nextDepositNonce ? 'deposit nonce used' : undefined;
      case 'withdraw':
        return t.withdraw.nonce < book.account(t.withdraw.account).withdrawNonce
          ? 'withdraw nonce used'
          : undefined;
    }
  }

  async function applyOne(block: Block): Promise<void> {
    const h = block.header.height;
    // Noted also when applied already (a height the WAL decides again after a restart, ADR 0215).
    noteBlock(block);
    if (h <= book.appliedHeight()) return;
    for (let attempt = 0; ; attempt++) {
      if (stopping) return;
      let resolved: Awaited<ReturnType<AuctionSourceService['resolved']>>;
      try {
        resolved = await source.resolved(block);
      } catch (err) {
        if (attempt % 50 === 49)
          log.warn({ err, height: h, attempt }, 'auction resolution of a committed slot not ready; retrying');
        await sleep(RETRY_MS);
        continue;
      }
      const { applied, persisted } = book.applyInOrder(block, resolved);
      // The next block applies without waiting for this one's write; a failed write stops the node.
      persisted.catch((err: unknown) => {
        if (stopping) return;
        log.fatal({ err, height: h }, 'the auction state cannot persist an applied block');
        deps.onFatal(err);
      });
      await applied;
      // Slot h + 1's bids are final now: resolve it before a proposal asks (a failure is retried then).
      if (!stopping) source.outcome(h + 1).catch(() => {});
      return;
    }
  }

  let chain: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    chain = chain.then(work).catch((err) => {
      if (stopping) return;
      log.fatal({ err }, 'the auction state cannot apply committed blocks');
      deps.onFatal(err);
    });
  };

  // Heights the store committed after the persisted book (a crash between the two): re-apply in order.
  // Not here but when the node calls replayStored(): the book's records ride in their block's write
  // (ADR 0215), so a store that lost blocks lost their records too, and those blocks are back only once
  // the node has repaired the store from its peers.
  const replayStored = (): void => {
    const from = book.appliedHeight() + 1;
    const to = store.height();
    if (from > to) return;
    log.info({ from, to }, 're-applying committed blocks to the auction state');
    enqueue(async () => {
      for (let h = from; h <= to && !stopping; h++) {
        const block = await store.getBlock(h);
        if (block === undefined)
          throw new OrdoError('AUCTION_REPLAY_MISSING_BLOCK', `block ${h} is missing from the store`);
        await applyOne(block);
      }
    });
  };

  return {
    book,
    source,
    lane,
    replayStored,
    async outcome(height) {
      // Persisted, not only applied: a height's outcome records are readable once written (ADR 0215).
      if (height < 1 || height > book.persistedHeight()) return undefined;
      const raw = (await book.outcomeRecords(height)) ?? (await legacyOutcomes.get(heightKey(height)));
      if (raw === undefined) return [];
      try {
        return decodeOutcomeRecords(raw);
      } catch (err) {
        log.warn({ err, height }, 'stored auction outcome does not decode');
        return undefined;
      }
    },
    admission(tx) {
      if (tx.namespace !== AUCTION_NAMESPACE) return undefined;
      try {
        book.check(decodeAuctionTx(tx.payload));
        return undefined;
      } catch (err) {
        const code = (err as { code?: string }).code;
        return { code: 'INVALID_TX', message: `${code ?? 'AUCTION_MALFORMED'}: ${errorMessage(err)}` };
      }
    },
    gossipCheck(tx) {
      if (tx.namespace !== AUCTION_NAMESPACE) return undefined;
      try {
        verifyAuctionTxSignatures(setup.chainId, decodeAuctionTx(tx.payload), setup.depositAuthority);
        return undefined;
      } catch (err) {
        return { ok: false, code: 'INVALID_TX', message: errorMessage(err), retryable: false };
      }
    },
    capReap(txs, drop) {
      let first = -1;
      let end = -1;
      for (let i = 0; i < txs.length; i++) {
        if ((txs[i] as TxEnvelope).namespace !== AUCTION_NAMESPACE) continue;
        if (first < 0) first = i;
        end = i + 1;
      }
      if (first < 0) return txs;
      const lane = txs.slice(first, end).filter((t) => {
        const why = stale(t);
        if (why !== undefined) drop?.(t, why);
        return why === undefined;
      });
      const reveals = lane.filter((t) => t.payload[0] === REVEAL_TAG);
      const others = lane.filter((t) => t.payload[0] !== REVEAL_TAG);
      const kept = [...reveals, ...others].slice(0, setup.lane.maxTxsPerBlock);
      return [...txs.slice(0, first), ...kept, ...txs.slice(end)];
    },
    committed(block) {
      enqueue(() => applyOne(block));
    },
    async gate(height) {
      let waits = 0;
      for (;;) {
        if (stopping) throw new OrdoError('SHUTTING_DOWN', 'the node is stopping');
        try {
          await book.whenPersisted(height, GATE_WAIT_MS);
          return;
        } catch {
          if (++waits % 10 === 0)
            log.warn(
              { height, applied: book.appliedHeight(), waitedMs: waits * GATE_WAIT_MS },
              'execution waits for the auction state to apply this height',
            );
        }
      }
    },
    async stop() {
      stopping = true;
      book.stopRetrying();
      await chain.catch(() => {});
      // Quiet heights are not written as they are applied: record them now, so a restart starts there.
      await book.flush().catch((err) => log.warn({ err }, 'writing the auction state at stop failed'));
    },
  };
}

function heightKey(h: number): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, BigInt(h));
  return k;
}
