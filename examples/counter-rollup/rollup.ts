/**
 * Counter rollup: the smallest useful rollup on Ordo, as an example for rollup teams. It consumes its
 * own verified block stream through the SDK (every certificate and completeness proof checked),
 * applies its transactions to a map of named counters, keeps that state in one JSON file written
 * atomically after every block (with the height it reflects), and serves `GET /state` on 127.0.0.1.
 * After a restart of itself it resumes from the saved height; after a restart or loss of the Ordo
 * node it reads from, the SDK reconnects or fails over and resumes where it stopped.
 *
 * Transactions are UTF-8 JSON `{"key": "<name>", "add": <integer>}`. Anything else is a no-op that
 * is counted as rejected: Ordo orders bytes, the rollup decides what they mean.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { bytesEqual, fromHex, OrdoRollupClient, sha256, toHex, type Validator } from '@ordo/sdk';
import pino, { type Logger } from 'pino';

export interface CounterState {
  /** The last Ordo height applied (0 = none). */
  height: number;
  /** Block hash at `height` (hex), to detect a node serving a different chain after restart. */
  blockHash: string;
  counters: Record<string, number>;
  applied: number;
  rejected: number;
  /** sha256 chain over every applied transaction: two replicas agree iff this agrees. */
  stateHash: string;
}

export function initialState(): CounterState {
  return {
    height: 0,
    blockHash: '',
    counters: {},
    applied: 0,
    rejected: 0,
    stateHash: toHex(new Uint8Array(32)),
  };
}

const dec = new TextDecoder('utf-8', { fatal: true });
const KEY = /^[a-z0-9_-]{1,32}$/;

/** The state transition: apply one transaction payload. Deterministic; never throws. */
export function applyTx(s: CounterState, payload: Uint8Array): void {
  let key: string;
  let add: number;
  try {
    if (payload.byteLength > 1024) throw new Error('too large');
    const v = JSON.parse(dec.decode(payload)) as { key?: unknown; add?: unknown };
    if (typeof v.key !== 'string' || !KEY.test(v.key)) throw new Error('bad key');
    if (typeof v.add !== 'number' || !Number.isSafeInteger(v.add) || Math.abs(v.add) > 1e9)
      throw new Error('bad add');
    key = v.key;
    add = v.add;
  } catch {
    s.rejected++;
    return;
  }
  const next = (s.counters[key] ?? 0) + add;
  if (!Number.isSafeInteger(next)) {
    s.rejected++;
    return;
  }
  s.counters[key] = next;
  s.applied++;
  s.stateHash = toHex(sha256(fromHex(s.stateHash), payload));
}

/** Direct replay of a list of payloads from the initial state (what the stream must agree with). */
export function replay(payloads: Uint8Array[]): CounterState {
  const s = initialState();
  for (const p of payloads) applyTx(s, p);
  return s;
}

export interface CounterRollupOptions {
  endpoints: string[];
  namespace: number;
  chainId: string;
  validators: Validator[];
  dataDir: string;
  /** 0 = any free port. */
  httpPort?: number;
  logger?: Logger;
}

export class CounterRollup {
  readonly #opts: CounterRollupOptions;
  readonly #log: Logger;
  #state: CounterState = initialState();
  #client: OrdoRollupClient | undefined;
  #http: Server | undefined;
  #loop: Promise<void> | undefined;
  #error: unknown;

  constructor(opts: CounterRollupOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'counter-rollup' });
  }

  get state(): CounterState {
    return this.#state;
  }

  /** The error that stopped the block loop, if any (e.g. a VerificationError). */
  get error(): unknown {
    return this.#error;
  }

  get #file(): string {
    return join(this.#opts.dataDir, 'state.json');
  }

  async #load(): Promise<void> {
    try {
      const s = JSON.parse(await readFile(this.#file, 'utf8')) as CounterState;
      if (!Number.isSafeInteger(s.height) || typeof s.counters !== 'object')
        throw new Error('bad state file');
      this.#state = s;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#state = initialState();
    }
  }

  async #save(): Promise<void> {
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.#state));
    await rename(tmp, this.#file);
  }

  /** Load state, start serving `GET /state`, and follow the chain from the saved height. Returns the HTTP port. */
  async start(): Promise<number> {
    await mkdir(this.#opts.dataDir, { recursive: true });
    await this.#load();
    this.#http = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/state') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.#state));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found; try GET /state' }));
      }
    });
    const http = this.#http;
    await new Promise<void>((resolve) => http.listen(this.#opts.httpPort ?? 0, '127.0.0.1', resolve));
    const port = (http.address() as { port: number }).port;
    const client = new OrdoRollupClient({
      endpoints: this.#opts.endpoints,
      namespace: this.#opts.namespace,
      chainId: this.#opts.chainId,
      validators: this.#opts.validators,
      fromHeight: this.#state.height + 1,
      logger: this.#log,
    });
    this.#client = client;
    this.#loop = this.#run(client);
    this.#log.info({ port, fromHeight: this.#state.height + 1 }, 'counter rollup started');
    return port;
  }

  async #run(client: OrdoRollupClient): Promise<void> {
    try {
      for await (const b of client) {
        // The parent of the first new block must be the block we stopped at.
        if (this.#state.height > 0 && b.height === this.#state.height + 1) {
          if (!bytesEqual(b.header.parentHash, fromHex(this.#state.blockHash)))
            throw new Error(`block ${b.height} does not extend our saved block ${this.#state.height}`);
        }
        for (const tx of b.transactions) applyTx(this.#state, tx);
        this.#state.height = b.height;
        this.#state.blockHash = toHex(b.blockHash);
        await this.#save();
      }
    } catch (err) {
      this.#error = err;
      this.#log.error({ err: String(err) }, 'block loop stopped');
    }
  }

  async stop(): Promise<void> {
    this.#client?.close();
    await this.#loop;
    const http = this.#http;
    if (http !== undefined) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    this.#client = undefined;
    this.#http = undefined;
  }
}
