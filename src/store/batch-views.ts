/**
 * One atomic write for several key/value views (ADR 0344): the executor persists every executed
 * rollup's height at once. Views that are sub() views of one store with the same sync setting share a
 * single engine batch (one LevelDB write, one thread-pool round trip, instead of one per view); any
 * other view (a test's in-memory store, a mix of stores or sync settings) gets its own batch, in order.
 */
import type { JoinableKv, KvStore, KvWrite } from './types.ts';

export interface ViewWrites {
  kv: KvStore;
  writes: KvWrite[];
}

function joinable(kv: KvStore): kv is JoinableKv {
  return (kv as Partial<JoinableKv>).joint !== undefined;
}

/** Writes every part; atomically as one batch when all views belong to one store and sync setting. */
export async function batchViews(parts: readonly ViewWrites[]): Promise<void> {
  const live = parts.filter((p) => p.writes.length > 0);
  if (live.length === 0) return;
  if (live.length === 1) return live[0]!.kv.batch(live[0]!.writes);
  const first = live[0]!.kv;
  if (
    joinable(first) &&
    live.every(
      (p) => joinable(p.kv) && p.kv.joint.base === first.joint.base && p.kv.joint.sync === first.joint.sync,
    )
  ) {
    const raw: KvWrite[] = [];
    for (const p of live) {
      const j = (p.kv as JoinableKv).joint;
      for (const w of p.writes) raw.push({ key: j.rawKey(w.key), value: w.value });
    }
    return first.joint.writeRaw(raw, first.joint.sync);
  }
  for (const p of live) await p.kv.batch(p.writes);
}

interface Queued extends ViewWrites {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Views whose batches, when several are asked for in one event-loop turn, are written together by
 * `batchViews` once the turn is over (a `setImmediate`): the Ethereum index of each EVM rollup writes
 * every height, right after the executor told them all (ADR 0344). Each caller's batch resolves (or
 * fails) with the joint write; reads and the other methods go straight to the view.
 */
export class JointBatches {
  #queued: Queued[] = [];
  #scheduled = false;

  /** `kv` with its `batch` joined to the other views' of the same turn. */
  view(kv: KvStore): KvStore {
    return {
      get: (key) => kv.get(key),
      put: (key, value) => kv.put(key, value),
      del: (key) => kv.del(key),
      range: (opts) => kv.range(opts),
      batch: (writes) => this.#batch(kv, writes),
    };
  }

  #batch(kv: KvStore, writes: KvWrite[]): Promise<void> {
    if (writes.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queued.push({ kv, writes, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const parts = this.#queued;
    this.#queued = [];
    batchViews(parts).then(
      () => {
        for (const p of parts) p.resolve();
      },
      (err: unknown) => {
        for (const p of parts) p.reject(err);
      },
    );
  }
}
