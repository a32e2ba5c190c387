/** HealthMonitor: liveness and readiness from height progress, engine health, fatal errors and peers. */
import { describe, expect, it } from 'vitest';
import { type EngineHealth, HealthMonitor } from '../../../src/node/health.ts';

describe('HealthMonitor', () => {
  it('follows height progress, the engine, fatal errors and peer count', () => {
    let now = 0;
    let height = 5;
    let peers = 2;
    let engine: EngineHealth = { ok: true };
    let fatal: string | undefined;
    const h = new HealthMonitor({
      height: () => height,
      peers: () => peers,
      engine: () => engine,
      fatal: () => fatal,
      validators: 4,
      isValidator: true,
      maxBlockAgeMs: 10_000,
      readyMaxBlockAgeMs: 2_000,
      now: () => now,
    });
    expect(h.neededPeers).toBe(2); // quorum of 4 is 3, minus ourselves
    expect(h.live().ok).toBe(true);
    expect(h.ready().ok).toBe(true);
    now = 3_000;
    expect(h.live().ok).toBe(true);
    expect(h.ready()).toMatchObject({ ok: false, failing: ['advancing'] });
    height = 6;
    expect(h.ready().ok).toBe(true);
    peers = 1;
    expect(h.ready()).toMatchObject({ ok: false, failing: ['peers'] });
    expect(h.live().ok).toBe(true); // liveness does not depend on peers
    now = 14_000;
    expect(h.live()).toMatchObject({ ok: false, failing: ['advancing'], lastAdvanceAgeMs: 11_000 });
    height = 7;
    engine = { ok: false, code: 'STORAGE_WRITE_FAILED', reason: 'ENOSPC', sinceMs: 1 };
    fatal = 'store failed';
    const r = h.live();
    expect(r).toMatchObject({ ok: false, failing: ['consensus', 'fatal'] });
    expect((r.checks as Record<string, { code?: string }>).consensus?.code).toBe('STORAGE_WRITE_FAILED');
  });

  it("reports a component's failed storage writes (the auction book) as its own check", () => {
    let auction: EngineHealth = { ok: true };
    const h = new HealthMonitor({
      height: () => 1,
      peers: () => 3,
      engine: () => ({ ok: true }),
      components: () => ({ auction }),
      fatal: () => undefined,
      validators: 4,
      isValidator: true,
      maxBlockAgeMs: 10_000,
      readyMaxBlockAgeMs: 2_000,
      now: () => 0,
    });
    expect(h.live().ok).toBe(true);
    auction = { ok: false, code: 'AUCTION_WRITE_FAILED', reason: 'No space left on device', sinceMs: 1 };
    expect(h.live()).toMatchObject({
      ok: false,
      failing: ['auction'],
      checks: { auction: { code: 'AUCTION_WRITE_FAILED' } },
    });
    auction = { ok: true };
    expect(h.ready().ok).toBe(true);
  });
});
