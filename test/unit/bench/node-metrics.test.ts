/**
 * The benchmark's transport accounting (bench/lib/node-metrics.ts) reads the right series from a node's
 * /metrics text, and the CPU-time calibration (bench/lib/proc-cpu.ts) answers a positive per-verify time.
 */
import { describe, expect, it } from 'vitest';
import { parseCounters } from '../../../bench/lib/node-metrics.ts';
import { ed25519VerifyCalibration } from '../../../bench/lib/proc-cpu.ts';

const TEXT = `# HELP ordo_consensus_committed_txs_total Transactions committed
# TYPE ordo_consensus_committed_txs_total counter
ordo_consensus_committed_txs_total 1200
# TYPE ordo_p2p_rpc_received_total counter
ordo_p2p_rpc_received_total 90
# TYPE ordo_p2p_rpc_received_items_total counter
ordo_p2p_rpc_received_items_total{kind="message",topic="txs"} 30
ordo_p2p_rpc_received_items_total{kind="message",topic="consensus"} 12
ordo_p2p_rpc_received_items_total{kind="idontwant",topic=""} 40
# TYPE ordo_p2p_gossip_messages_total counter
ordo_p2p_gossip_messages_total{topic="txs",direction="in"} 20
ordo_p2p_gossip_messages_total{topic="txs",direction="out"} 7
`;

describe('bench transport accounting', () => {
  it('sums the wanted series and counts a present family from 0', () => {
    const c = parseCounters(TEXT);
    expect(c.get('committedTxs')).toBe(1200);
    expect(c.get('rpcFrames')).toBe(90);
    expect(c.get('txBatchCopies')).toBe(30);
    expect(c.get('consensusCopies')).toBe(12);
    expect(c.get('idontwantIds')).toBe(40);
    expect(c.get('ihaveIds')).toBe(0); // family present, no series yet
    expect(c.get('txBatchesValidated')).toBe(20); // direction="out" not counted
    expect(c.has('rpcBytes')).toBe(false); // family absent (an older checkout): null figures
  });

  it('measures the ed25519 calibration in CPU time', () => {
    const cal = ed25519VerifyCalibration(3, 200);
    expect(cal.cpuMicros).toBeGreaterThan(0);
    expect(cal.cpuMicrosMin).toBeLessThanOrEqual(cal.cpuMicros);
    expect(cal.cpuMicrosMax).toBeGreaterThanOrEqual(cal.cpuMicros);
  });
});
