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
