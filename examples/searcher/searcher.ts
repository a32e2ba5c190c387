/**
 * Example searcher (issue #23): bids in the Ordo MEV auction over nothing but the node's public
 * JSON-RPC, with the auction's signing helper (`signBid`, src/auction) and the bundle hash
 * (`bundleHash`, src/codec) — the two things a searcher in another language would port.
 *
 * For each of --rounds slots it: picks the next slot whose commit window is open, builds a one-leg bundle
 * (a message on the first opaque rollup), bids the reserve plus a random premium, commits, waits for the
 * commit's inclusion, reveals in the reveal window, waits for the slot to resolve and prints the outcome.
 *
 *   npm start                                   # a local testnet (its genesis funds demo bidders 0..15)
 *   npm run example:searcher -- --rpc http://127.0.0.1:26600 --bidder 3 --rounds 3
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { commitWindow, revealWindow, signBid } from '../../src/auction/index.ts';
import { bundleHash, canonicalBundle } from '../../src/codec/index.ts';
import { demoAuctionSeed } from '../../src/config/index.ts';
import { publicKeyFromSeed, toHex } from '../../src/crypto/index.ts';

const { values } = parseArgs({
  options: {
    rpc: { type: 'string', default: 'http://127.0.0.1:26600' },
    bidder: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    premium: { type: 'string', default: '5000' },
  },
});
const RPC = values.rpc;
const hex = (b: Uint8Array) => `0x${toHex(b)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One JSON-RPC call; a refusal throws with the node's data.code (e.g. AUCTION_OUT_OF_WINDOW). */
async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(RPC, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string; data?: { code?: string } } };
  if (body.error !== undefined)
    throw new Error(`${method}: ${body.error.data?.code ?? ''} ${body.error.message}`);
  return body.result as T;
}

interface Info {
  enabled: boolean;
  params: { commitOffset: number; commitHorizon: number; revealOffset: number; forfeitFee: string };
  rollups: { namespace: number; reservePrice: string }[];
}
const head = async () => (await rpc<{ height: number }>('ordo_status')).height;

async function waitCommitted(txHash: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const s = await rpc<{ status: string; height?: number; reason?: string }>('ordo_getTransactionStatus', [
      txHash,
    ]);
    if (s.status === 'committed') return s.height as number;
    if (s.status === 'dropped') throw new Error(`${txHash} dropped: ${s.reason}`);
    await sleep(100);
  }
  throw new Error(`${txHash} not included within 60 s`);
}

async function main(): Promise<void> {
  let status: { chainId: string; height: number; rollups: { namespace: number; kind: string }[] };
  try {
    status = await rpc('ordo_status');
  } catch (err) {
    console.error(`cannot reach ${RPC} (${(err as Error).message}); start a testnet with "npm start" first`);
    process.exit(1);
  }
  const info = await rpc<Info>('ordo_getAuctionInfo');
  if (!info.enabled) throw new Error('the auction is not enabled on this network');
  const p = info.params;
  const opaque = status.rollups.find((r) => r.kind === 'opaque');
  if (opaque === undefined)
    throw new Error('this example bids with an opaque-rollup bundle; the network has none');
  const reserve = BigInt(info.rollups.find((r) => r.namespace === opaque.namespace)?.reservePrice ?? '0');
  const seed = demoAuctionSeed(Number(values.bidder));
  const me = hex(publicKeyFromSeed(seed));
  const acc = await rpc<{ available: string }>('ordo_getAccount', [me]);
  console.log(
    `bidder ${me} on ${status.chainId}: ${acc.available} available, reserve ${reserve} on rollup ${opaque.namespace}`,
  );

  for (let round = 0; round < Number(values.rounds); round++) {
    const h = await head();
    const slot = h + 1 + p.commitOffset + 2; // two blocks of margin for the commit to be included
    const bundleJson = {
      legs: [
        {
          namespace: opaque.namespace,
          txs: [hex(new TextEncoder().encode(`hello from ${me.slice(0, 10)} @${slot}`))],
        },
      ],
      atomicity: 'inclusion',
    };
    const bundle = canonicalBundle({
      legs: bundleJson.legs.map((l) => ({
        namespace: l.namespace,
        txs: l.txs.map((t) => Uint8Array.from(Buffer.from(t.slice(2), 'hex'))),
        revertingTxHashes: [],
      })),
      atomicity: 'inclusion',
      minHeight: 0,
      maxHeight: 0,
      replacementUuid: new Uint8Array(0),
      signer: new Uint8Array(0),
      signature: new Uint8Array(0),
    });
    const amount = reserve + 1n + BigInt(Math.floor(Math.random() * Number(values.premium)));
    const { commit, reveal } = signBid(status.chainId, seed, {
      slot,
      amount,
      bundleHash: bundleHash(status.chainId, bundle),
      salt: randomBytes(32),
    });
    const cw = commitWindow(slot, p);
    const rw = revealWindow(slot, p);
    const c = await rpc<{ txHash: string }>('ordo_sendBidCommit', [
      { slot, bidder: me, commitment: hex(commit.commitment), signature: hex(commit.signature) },
    ]);
    console.log(`slot ${slot}: committed ${amount} (commit window ${cw.first}..${cw.last}) tx ${c.txHash}`);
    console.log(`slot ${slot}: commit included at ${await waitCommitted(c.txHash)}`);
    while ((await head()) + 1 < rw.first) await sleep(50);
    const r = await rpc<{ txHash: string }>('ordo_sendBidReveal', [
      {
        slot,
        bidder: me,
        amount: amount.toString(),
        bundle: bundleJson,
        salt: hex(reveal.salt),
        signature: hex(reveal.signature),
      },
    ]);
    console.log(
      `slot ${slot}: revealed (window ${rw.first}..${rw.last}), included at ${await waitCommitted(r.txHash)}`,
    );
    let s: {
      resolved: boolean;
      winners: { namespace: number; commitment: string; price: string; proceeds: string }[];
    } | null = null;
    for (let i = 0; i < 600 && s?.resolved !== true; i++) {
      s = await rpc('ordo_getAuction', [slot]);
      if (s?.resolved !== true) await sleep(100);
    }
    const won = s?.winners.find((w) => w.commitment === hex(commit.commitment));
    console.log(
      won
        ? `slot ${slot}: WON the top of rollup ${won.namespace}, paid ${won.price} (second price), ${won.proceeds} to its treasury`
        : `slot ${slot}: lost (${s?.winners.map((w) => `rollup ${w.namespace} went for ${w.price}`).join(', ') || 'nothing sold'})`,
    );
  }
  console.log(`account after: ${JSON.stringify(await rpc('ordo_getAccount', [me]))}`);
}

await main();
