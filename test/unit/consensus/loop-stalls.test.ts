/** Event-loop stall probe (src/consensus/loop-stalls.ts): ticks driven by hand, no real timer. */
import { describe, expect, it } from 'vitest';
import { LoopStalls } from '../../../src/consensus/loop-stalls.ts';

describe('LoopStalls', () => {
  it('records a tick that came thresholdMs or more late as a stall starting at its due time', () => {
    const seen: number[] = [];
    const p = new LoopStalls({ now: () => 0, tickMs: 20, thresholdMs: 50, onStall: (ms) => seen.push(ms) });
    p.tick(20); // on time
    p.tick(60); // 20 late: not a stall
    p.tick(380); // due at 80, 300 late
    p.tick(400);
    expect(p.between(0, 1000)).toEqual([{ startMs: 80, ms: 300 }]);
    expect(seen).toEqual([300]);
  });

  it('answers the stalls overlapping a window and keeps a bounded number', () => {
    const p = new LoopStalls({ now: () => 0, tickMs: 10, thresholdMs: 50, keep: 2 });
    let t = 0;
    for (const late of [100, 200, 300]) {
      t += 10 + late;
      p.tick(t);
    }
    // Three stalls: 10 + 100, 120 + 200, 330 + 300; the oldest is dropped.
    expect(p.between(0, 10_000).map((s) => s.ms)).toEqual([200, 300]);
    expect(p.between(0, 119)).toEqual([]);
    expect(p.between(300, 325).map((s) => s.startMs)).toEqual([120]);
    expect(p.between(640, 700)).toEqual([]);
  });

  it('start and stop are idempotent and the timer does not keep the process alive', () => {
    const p = new LoopStalls({ now: () => performance.now() });
    p.start();
    p.start();
    p.stop();
    p.stop();
    expect(p.between(0, Number.POSITIVE_INFINITY)).toEqual([]);
  });
});
