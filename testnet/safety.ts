/**
 * The report's safety check: every node's committed block hash at every height, compared across all
 * nodes that have that height. Any height where two nodes hold different blocks is a conflicting
 * commit — a BFT safety violation. Hashes are fetched with batched `ordo_getBlock [h, false]` calls (the
 * second parameter asks for blocks without transaction data where the node supports it) with bounded
 * concurrency, so the check stays cheap even after a heavy run.
 */
import { Agent, request } from 'node:http';
import { errorMessage } from '../src/errors.ts';

export interface NodeHead {
  id: string;
  height: number | null;
  headHash: string | null;
  error?: string;
}

export interface SafetyResult {
  checkedHeights: number;
  conflictingCommits: number;
  /** The first conflicts found: height and each node's hash. */
  conflicts: { height: number; hashes: Record<string, string> }[];
  nodes: NodeHead[];
  tookMs: number;
}

const BATCH = 25;

/** POST a JSON-RPC body on a keep-alive agent, with a timeout (shared by the safety and history checks). */
export function post(agent: Agent, url: URL, body: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/',
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function heightOf(agent: Agent, url: URL): Promise<number> {
  const r = JSON.parse(
    await post(
      agent,
      url,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ordo_status', params: [] }),
      5000,
    ),
  ) as { result?: { height: number }; error?: { message: string } };
  if (r.result === undefined) throw new Error(r.error?.message ?? 'no result');
  return r.result.height;
}

/** Hashes of heights 1..height of one node, in order (index h-1). */
async function hashesOf(agent: Agent, url: URL, height: number): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array(height).fill(null);
  for (let from = 1; from <= height; from += BATCH) {
    const to = Math.min(height, from + BATCH - 1);
    const reqs = [];
    for (let h = from; h <= to; h++)
      reqs.push({ jsonrpc: '2.0', id: h, method: 'ordo_getBlock', params: [h, false] });
    const res = JSON.parse(await post(agent, url, JSON.stringify(reqs), 60_000)) as {
      id: number;
      result?: { hash?: string } | null;
    }[];
    if (!Array.isArray(res)) throw new Error('batch ordo_getBlock answered with a non-array');
    for (const r of res) {
      const hash = r.result?.hash;
      if (typeof r.id === 'number' && r.id >= 1 && r.id <= height && typeof hash === 'string')
        out[r.id - 1] = hash;
    }
  }
  return out;
}

export async function checkSafety(nodes: { id: string; rpc: string }[]): Promise<SafetyResult> {
  const t0 = Date.now();
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    const per = await Promise.all(
      nodes.map(async (n) => {
        const url = new URL(n.rpc);
        try {
          const height = await heightOf(agent, url);
          const hashes = await hashesOf(agent, url, height);
          return { id: n.id, height, hashes, error: undefined as string | undefined };
        } catch (err) {
          return { id: n.id, height: null, hashes: [] as (string | null)[], error: errorMessage(err) };
        }
      }),
    );
    const maxH = Math.max(0, ...per.map((p) => p.hashes.length));
    let checked = 0;
    let conflicting = 0;
    const conflicts: SafetyResult['conflicts'] = [];
    for (let h = 1; h <= maxH; h++) {
      const seen: Record<string, string> = {};
      const distinct = new Set<string>();
      for (const p of per) {
        const x = p.hashes[h - 1];
        if (x === undefined || x === null) continue;
        seen[p.id] = x;
        distinct.add(x);
      }
      if (Object.keys(seen).length < 2) continue;
      checked++;
      if (distinct.size > 1) {
        conflicting++;
        if (conflicts.length < 10) conflicts.push({ height: h, hashes: seen });
      }
    }
    return {
      checkedHeights: checked,
      conflictingCommits: conflicting,
      conflicts,
      nodes: per.map((p) => ({
        id: p.id,
        height: p.height,
        headHash: p.height === null || p.height === 0 ? null : (p.hashes[p.height - 1] ?? null),
        ...(p.error !== undefined ? { error: p.error } : {}),
      })),
      tookMs: Date.now() - t0,
    };
  } finally {
    agent.destroy();
  }
}
