/**
 * Liveness and readiness of a node for an orchestrator (GET /health and GET /ready on the RPC port).
 *
 * - Liveness (`live`): the node can still make progress on its own: consensus has not halted (the
 *   engine's `health()`: a failed WAL or store write, a broken invariant), no component reported a
 *   fatal error, and the committed height advanced within `maxBlockAgeMs`. Failing it means "restart me".
 * - Readiness (`ready`): liveness, plus enough connected peers for a quorum and a height that advanced
 *   within the stricter `readyMaxBlockAgeMs`. Failing it means "do not send clients here now".
 *
 * Peers are counted, not mapped to validators: with n validators of equal power a quorum is
 * floor(2n/3)+1 of them, so a validator needs that many minus itself connected, a full node that many.
 * This is a heuristic (a peer may be a full node), good enough to flag an isolated node.
 */
import type { HealthReport } from '../rpc/index.ts';

/** The consensus engine's own verdict (ConsensusEngine.health()). */
export type EngineHealth = { ok: true } | { ok: false; code: string; reason: string; sinceMs: number };

export interface HealthOptions {
  height: () => number;
  peers: () => number;
  engine: () => EngineHealth;
  /** Other components' storage health (the auction book's record writes), same shape as the engine's. */
  components?: () => Record<string, EngineHealth>;
  /** The first fatal error a component reported, if any. */
  fatal: () => string | undefined;
  validators: number;
  isValidator: boolean;
  maxBlockAgeMs: number;
  readyMaxBlockAgeMs: number;
  now?: () => number;
}

interface Check {
  ok: boolean;
  code?: string;
  reason?: string;
}

export class HealthMonitor {
  readonly #o: HealthOptions;
  readonly #now: () => number;
  #lastHeight: number;
  #advancedAt: number;

  constructor(o: HealthOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#lastHeight = o.height();
    // Start-up counts as progress: a node gets maxBlockAgeMs to join and commit.
    this.#advancedAt = this.#now();
  }

  /** Call on every commit (and it is called on every check). */
  observe(height = this.#o.height()): void {
    if (height !== this.#lastHeight) {
      this.#lastHeight = height;
      this.#advancedAt = this.#now();
    }
  }

  /** Peers needed for a quorum of validators by count. */
  get neededPeers(): number {
    const n = this.#o.validators;
    const quorum = Math.floor((2 * n) / 3) + 1;
    return Math.max(0, quorum - (this.#o.isValidator ? 1 : 0));
  }

  live(): HealthReport {
    return this.#report(false);
  }

  ready(): HealthReport {
    return this.#report(true);
  }

  #report(ready: boolean): HealthReport {
    this.observe();
    const ageMs = this.#now() - this.#advancedAt;
    const engine = this.#o.engine();
    const fatal = this.#o.fatal();
    const checks: Record<string, Check> = {
      consensus: engine.ok ? { ok: true } : { ok: false, code: engine.code, reason: engine.reason },
      fatal: fatal === undefined ? { ok: true } : { ok: false, code: 'FATAL', reason: fatal },
    };
    for (const [name, h] of Object.entries(this.#o.components?.() ?? {}))
      checks[name] = h.ok ? { ok: true } : { ok: false, code: h.code, reason: h.reason };
    const maxAge = ready ? this.#o.readyMaxBlockAgeMs : this.#o.maxBlockAgeMs;
    checks.advancing =
      ageMs <= maxAge
        ? { ok: true }
        : {
            ok: false,
            code: 'NOT_ADVANCING',
            reason: `height ${this.#lastHeight} has not advanced for ${ageMs} ms (limit ${maxAge} ms, health.${ready ? 'readyMaxBlockAgeMs' : 'maxBlockAgeMs'})`,
          };
    const peers = this.#o.peers();
    if (ready) {
      const need = this.neededPeers;
      checks.peers =
        peers >= need
          ? { ok: true }
          : {
              ok: false,
              code: 'TOO_FEW_PEERS',
              reason: `${peers} peers connected; a quorum of ${this.#o.validators} validators needs ${need}`,
            };
    }
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    return {
      ok: failing.length === 0,
      kind: ready ? 'readiness' : 'liveness',
      height: this.#lastHeight,
      lastAdvanceAgeMs: ageMs,
      peers,
      failing,
      checks,
    };
  }
}
