/**
 * `ordo testnet ...`: a local multi-node testnet on this machine (testnet/orchestrator.ts).
 *   up                      generate keys, genesis and configs, start every node as its own process,
 *                           serve the dashboard, optionally offer load, stop on Ctrl-C or after --duration
 *   status | down           inspect or stop the running testnet
 *   kill|restart|pause|resume|partition|heal NODE...   fault injection on the running testnet
 *   faults --matrix|--short  the fault matrix on a testnet of its own (testnet/faults.ts): JSON + table
 * Control commands find the running testnet through `<dir>/testnet.json` and ask its orchestrator over
 * its token-guarded control endpoint, so every node process stays owned by the orchestrator.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  CONTROL_ACTIONS,
  type ControlAction,
  DEFAULT_DIR,
  isNodeProcess,
  pidAlive,
  readState,
  removeState,
  runFaultMatrix,
  Testnet,
  type TestnetState,
  testnetRollups,
} from '../../testnet/index.ts';
import { demoAuction, makeGenesis } from '../config/index.ts';
import { errorMessage, OrdoError } from '../errors.ts';
import { homePaths } from '../node/index.ts';
import { loadOrCreateIdentity } from '../p2p/index.ts';
import { intArg, parse, strArg, UsageError } from './args.ts';
import { parseList } from './bench.ts';
import { startTestnetSearchers } from './bid.ts';

const USAGE = `Usage: ordo testnet <up|status|down|kill|restart|pause|resume|partition|heal|faults> [options]

  up [options]            start a local testnet and run until Ctrl-C (or --duration)
  status                  print the running testnet's nodes
  down                    stop the running testnet
  kill NODE...            SIGKILL nodes (a crash)
  restart NODE...         (re)start nodes on their existing homes
  pause NODE...           SIGSTOP nodes            resume NODE...   SIGCONT them
  partition NODE...       cut the given nodes off from all the others (both directions)
  heal [NODE...]          remove partitions (all nodes when none is named)
  faults --matrix         run the fault matrix on a testnet of its own (docs/testnet.md "Fault matrix")

Genesis ceremony helpers (multi-host networks, see docs/operating.md):
  peer-id --home DIR      create the node's p2p key if missing and print its peer id
  genesis --validator NAME=PUBKEY [--validator ...] [--rollups K] [--chain-id ID] [--no-auction] --out FILE
                          write one genesis for the collected validator keys

Options of up:
  --validators N          validators (default 4)
  --full-nodes M          non-validating full nodes (default 0)
  --rollups K             3..64 rollups in genesis: demo opaque, transfer, evm and evm-2, then opaque ones
                          (default 4; also for genesis)
  --load TX_PER_S         open-loop offered load, 0 = none (default 200)
  --load-namespaces LIST  namespaces to load (default: all rollups up to 500 tx/s, else the opaque ones)
  --batch-submit          the load generator submits protobuf batches (POST /ordo/v1/tx-batch, docs/rpc.md)
                          instead of JSON-RPC
  --size BYTES            opaque transaction size (default 200)
  --searchers N           N demo bidders (<= 16) bid in every auction slot beside the load (default 0)
  --no-auction            genesis without the auction section: the auction is disabled (no auction lane,
                          header auction_hash kind 0); cannot be combined with --searchers
  --bundles-per-sec N     signed cross-rollup bundles offered per second over the executed rollups, 0 = none
                          (default 2 when --load is above 0, else 0); the report adds bundle figures and
                          the atomicity check (docs/testnet.md)
  --bundle-cross-share F  share of bundles touching two rollups, 0..1 (default 0.5)
  --bundle-fail-share F   share of bundles built to fail, 0..1 (default 0.1)
  --duration S            stop after S seconds and write the report (default: run until Ctrl-C)
  --warmup S              offer load S seconds before the measured window (default 0)
  --report FILE           report file (default <dir>/report.json when --duration is given)
  --dashboard PORT        dashboard port on 127.0.0.1, 0 = any free port (default 8080)
  --base-port P           first node port; node i uses P+10i (rpc), +1 (grpc), +2 (p2p) (default 26600)
  --dir DIR               testnet directory (default ${DEFAULT_DIR}; wiped at start)
  --netns                 (root) every node in a network namespace of its own on 10.213.N.0/24;
                          partition drops packets (iptables) instead of using the admin RPC; falls back
                          with a message where namespaces cannot be made (docs/testnet.md)
  --netns-delay MS        with --netns: one-way latency on every node's link (tc netem, default 0)
Options of faults (also --validators, --size, --base-port, --dir, --report):
  --matrix                every validator killed and restarted in turn, pause, partitions, two faults
                          at once, one node's disk full (skipped where a tmpfs cannot be mounted)
  --short                 the reduced matrix CI runs: one kill/restart, one pause, one partition
  --cases LIST            only the cases whose name starts with one of these (kill,pause,partition,double,corrupt,disk)
  --load TX_PER_S         offered load during the whole matrix (default 100; --short 50)
  --fault-seconds S       how long each fault is held (default 10; --short 3)
  --recovery-timeout S    how long recovery is measured before a node counts as not back (default 60)
  --netns, --netns-delay  as for up: partitions between network namespaces (root), packets dropped
  --report FILE           JSON report (default <dir>/faults-report.json); exit code 1 when a case fails
Common:
  --dir DIR               where the running testnet's testnet.json is (default ${DEFAULT_DIR})
  --json                  (status) print the raw JSON snapshot
  -h, --help              show this help`;

export async function testnetCommand(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      validators: { type: 'string' },
      'full-nodes': { type: 'string' },
      rollups: { type: 'string' },
      load: { type: 'string' },
      'load-namespaces': { type: 'string' },
      'batch-submit': { type: 'boolean' },
      searchers: { type: 'string' },
      'no-auction': { type: 'boolean' },
      'bundles-per-sec': { type: 'string' },
      'bundle-cross-share': { type: 'string' },
      'bundle-fail-share': { type: 'string' },
      size: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      report: { type: 'string' },
      dashboard: { type: 'string' },
      'base-port': { type: 'string' },
      dir: { type: 'string' },
      json: { type: 'boolean' },
      home: { type: 'string' },
      validator: { type: 'string', multiple: true },
      'chain-id': { type: 'string' },
      out: { type: 'string' },
      matrix: { type: 'boolean' },
      short: { type: 'boolean' },
      cases: { type: 'string' },
      'fault-seconds': { type: 'string' },
      'recovery-timeout': { type: 'string' },
      netns: { type: 'boolean' },
      'netns-delay': { type: 'string' },
    },
    USAGE,
    true,
  );
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [sub, ...names] = a.positionals;
  const dir = resolve(strArg(a, 'dir') ?? DEFAULT_DIR);
  if (sub === undefined) throw new UsageError('missing subcommand', USAGE);
  if (sub === 'up') {
    if (names.length > 0) throw new UsageError(`unexpected argument "${names[0]}"`, USAGE);
    return up(a, dir);
  }
  if (sub === 'faults') {
    if (names.length > 0) throw new UsageError(`unexpected argument "${names[0]}"`, USAGE);
    return faults(a, dir);
  }
  if (sub === 'down') return down(dir);
  if (sub === 'peer-id') return peerIdCommand(a);
  if (sub === 'genesis') return genesisCommand(a);
  if (sub === 'status') return status(dir, a.values.json === true);
  if (!CONTROL_ACTIONS.includes(sub as ControlAction))
    throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  if (sub !== 'heal' && names.length === 0) throw new UsageError(`${sub} needs at least one NODE`, USAGE);
  const r = (await control(dir, sub as ControlAction, names)) as { message?: string };
  process.stdout.write(`${r.message ?? 'ok'}\n`);
  return 0;
}

/** Signals closer together than this are one Ctrl-C seen twice (terminal + npm's forward). */
const DOUBLE_SIGNAL_MS = 1000;

async function up(a: ReturnType<typeof parse>, dir: string): Promise<number> {
  const existing = readState(dir);
  if (existing !== undefined && pidAlive(existing.pid)) {
    throw new OrdoError(
      'TESTNET_RUNNING',
      `a testnet is already running from ${dir} (orchestrator pid ${existing.pid}); stop it with "ordo testnet down"`,
    );
  }
  if (existing !== undefined) await killLeftovers(existing);
  const duration =
    strArg(a, 'duration') === undefined ? undefined : intArg(a, 'duration', 0, USAGE, 1, 86_400 * 30);
  const loadNs = parseList(strArg(a, 'load-namespaces'), '--load-namespaces', USAGE);
  const report = strArg(a, 'report');
  const share = (name: string, def: number): number => {
    const v = strArg(a, name);
    if (v === undefined) return def;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new UsageError(`--${name} must be a number in 0..1, got "${v}"`, USAGE);
    return n;
  };
  const load = intArg(a, 'load', 200, USAGE, 0, 10_000_000);
  const bundlesPerSec = intArg(a, 'bundles-per-sec', load > 0 ? 2 : 0, USAGE, 0, 100_000);
  const noAuction = a.values['no-auction'] === true;
  if (noAuction && intArg(a, 'searchers', 0, USAGE, 0, 16) > 0)
    throw new UsageError('--searchers needs the auction: leave out --no-auction', USAGE);
  const ac = new AbortController();
  let testnet: Testnet | undefined;
  let firstSignalAt: number | undefined;
  const onSignal = (): void => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      process.stderr.write('\nstopping (Ctrl-C again to kill every node at once) ...\n');
      ac.abort();
    } else if (now - firstSignalAt > DOUBLE_SIGNAL_MS) {
      // A second Ctrl-C by a person. (Within DOUBLE_SIGNAL_MS it is the same Ctrl-C delivered twice:
      // by the terminal to the whole process group and again by npm, which forwards it to us.)
      testnet?.killAll();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // If whoever started us (npm, a shell script) dies without passing a signal on, we are re-parented:
  // stop as on Ctrl-C rather than run on as an orphan.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent && !ac.signal.aborted) {
      process.stderr.write(`\nparent process ${parent} is gone; stopping ...\n`);
      ac.abort();
    }
  }, 1000);
  parentWatch.unref();
  try {
    testnet = await Testnet.up({
      dir,
      validators: intArg(a, 'validators', 4, USAGE, 1, 64),
      fullNodes: intArg(a, 'full-nodes', 0, USAGE, 0, 64),
      rollups: intArg(a, 'rollups', 4, USAGE, 3, 64),
      basePort: intArg(a, 'base-port', 26600, USAGE, 1024, 65000),
      load,
      ...(loadNs !== undefined ? { loadNamespaces: loadNs } : {}),
      bundlesPerSec,
      bundleCrossShare: share('bundle-cross-share', 0.5),
      bundleFailShare: share('bundle-fail-share', 0.1),
      ...(a.values['batch-submit'] === true ? { batchSubmit: true } : {}),
      sizeBytes: intArg(a, 'size', 200, USAGE, 16, 1024 * 1024),
      ...(noAuction ? { noAuction: true } : {}),
      ...(duration !== undefined ? { durationSec: duration } : {}),
      warmupSec: intArg(a, 'warmup', 0, USAGE, 0, 3600),
      ...(report !== undefined ? { reportFile: resolve(report) } : {}),
      dashboardPort: intArg(a, 'dashboard', 8080, USAGE, 0, 65535),
      ...netnsOptions(a),
      signal: ac.signal,
    });
    if (ac.signal.aborted) {
      await testnet.shutdown();
      return 130;
    }
    const searchers = intArg(a, 'searchers', 0, USAGE, 0, 16);
    const sr =
      searchers === 0
        ? undefined
        : startTestnetSearchers({
            urls: testnet.nodes.map((n) => n.rpc),
            searchers,
            rollups: testnet.net.genesis.rollups,
            load: intArg(a, 'load', 200, USAGE, 0, 10_000_000),
            ...(loadNs !== undefined ? { loadNamespaces: loadNs } : {}),
            ...(duration !== undefined ? { durationSec: duration } : {}),
            ...(report !== undefined ? { reportFile: resolve(report) } : {}),
            out: (l) => process.stderr.write(`${l}\n`),
          });
    const r = await testnet.run();
    await sr?.stop();
    if (r !== undefined && r.safety.conflictingCommits > 0) {
      process.stderr.write(`SAFETY VIOLATION: ${r.safety.conflictingCommits} conflicting commits\n`);
      return 1;
    }
    return 0;
  } finally {
    clearInterval(parentWatch);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function faults(a: ReturnType<typeof parse>, dir: string): Promise<number> {
  const full = a.values.matrix === true;
  const short = a.values.short === true;
  if (full === short) throw new UsageError('faults needs exactly one of --matrix or --short', USAGE);
  const existing = readState(dir);
  if (existing !== undefined && pidAlive(existing.pid)) {
    throw new OrdoError(
      'TESTNET_RUNNING',
      `a testnet is already running from ${dir} (orchestrator pid ${existing.pid}); use another --dir`,
    );
  }
  if (existing !== undefined) await killLeftovers(existing);
  const cases = strArg(a, 'cases');
  const report = strArg(a, 'report');
  const basePort = strArg(a, 'base-port');
  const ac = new AbortController();
  const onSignal = (): void => {
    if (ac.signal.aborted) {
      // Second Ctrl-C: exit now; the testnet's exit hook kills every node (a small disk left mounted
      // is unmounted by the next run in the same --dir).
      process.exit(130);
    }
    process.stderr.write('\nstopping the fault matrix (cleaning up; Ctrl-C again to kill everything) ...\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await runFaultMatrix({
      dir,
      matrix: full ? 'full' : 'short',
      validators: intArg(a, 'validators', 4, USAGE, 4, 31),
      load: intArg(a, 'load', short ? 50 : 100, USAGE, 0, 100_000),
      sizeBytes: intArg(a, 'size', 200, USAGE, 16, 1024 * 1024),
      faultSeconds: intArg(a, 'fault-seconds', short ? 3 : 10, USAGE, 1, 3600),
      recoveryTimeoutSec: intArg(a, 'recovery-timeout', 60, USAGE, 5, 3600),
      ...(cases !== undefined
        ? {
            only: cases
              .split(',')
              .map((c) => c.trim())
              .filter((c) => c !== ''),
          }
        : {}),
      ...(basePort !== undefined ? { basePort: intArg(a, 'base-port', 26600, USAGE, 1024, 65000) } : {}),
      ...(report !== undefined ? { reportFile: resolve(report) } : {}),
      ...netnsOptions(a),
      signal: ac.signal,
    });
    return r.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `--netns` / `--netns-delay MS` for up and faults. */
function netnsOptions(a: ReturnType<typeof parse>): { netns?: boolean; netnsDelayMs?: number } {
  const delay = strArg(a, 'netns-delay');
  if (a.values.netns !== true) {
    if (delay !== undefined) throw new UsageError('--netns-delay needs --netns', USAGE);
    return {};
  }
  return { netns: true, netnsDelayMs: intArg(a, 'netns-delay', 0, USAGE, 0, 10_000) };
}

function requireState(dir: string): TestnetState {
  const s = readState(dir);
  if (s === undefined) {
    throw new OrdoError(
      'TESTNET_NOT_RUNNING',
      `no testnet is running from ${dir} (no testnet.json); start one with "ordo testnet up"`,
    );
  }
  return s;
}

async function control(dir: string, action: ControlAction, nodes: string[]): Promise<unknown> {
  const s = requireState(dir);
  if (!pidAlive(s.pid)) {
    throw new OrdoError(
      'TESTNET_NOT_RUNNING',
      `the testnet orchestrator (pid ${s.pid}) is gone; run "ordo testnet down --dir ${dir}" to clean up`,
    );
  }
  let res: Response;
  try {
    res = await fetch(`${s.controlUrl}/api/control`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ordo-testnet-token': s.token },
      body: JSON.stringify({ action, nodes }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw new OrdoError(
      'TESTNET_UNREACHABLE',
      `cannot reach the orchestrator at ${s.controlUrl}: ${errorMessage(err)}`,
    );
  }
  const body = (await res.json()) as { error?: string };
  if (!res.ok) throw new OrdoError('TESTNET_CONTROL_FAILED', body.error ?? `HTTP ${res.status}`);
  return body;
}

async function status(dir: string, asJson: boolean): Promise<number> {
  const snap = (await control(dir, 'status', [])) as {
    chainId: string;
    uptimeSec: number;
    nodes: {
      id: string;
      role: string;
      proc: string;
      height: number | null;
      peers: number | null;
      rpc: string;
      error: string | null;
    }[];
  };
  if (asJson) {
    process.stdout.write(`${JSON.stringify(snap, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`testnet ${snap.chainId}, up ${snap.uptimeSec} s\n`);
  for (const n of snap.nodes) {
    process.stdout.write(
      `  ${n.id.padEnd(7)} ${n.role.padEnd(9)} ${n.proc.padEnd(8)} height ${String(n.height ?? '-').padEnd(7)} peers ${String(n.peers ?? '-').padEnd(3)} ${n.rpc}${n.error ? `  (${n.error})` : ''}\n`,
    );
  }
  return 0;
}

async function killLeftovers(s: TestnetState): Promise<number> {
  let n = 0;
  for (const node of s.nodes) {
    if (node.pid !== null && pidAlive(node.pid) && isNodeProcess(node.pid, node.home)) {
      try {
        process.kill(node.pid, 'SIGCONT');
        process.kill(node.pid, 'SIGTERM');
        n++;
      } catch {
        // gone
      }
    }
  }
  const deadline = Date.now() + 10_000;
  while (
    Date.now() < deadline &&
    s.nodes.some((x) => x.pid !== null && pidAlive(x.pid) && isNodeProcess(x.pid, x.home))
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const node of s.nodes) {
    if (node.pid !== null && pidAlive(node.pid) && isNodeProcess(node.pid, node.home)) {
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  return n;
}

async function down(dir: string): Promise<number> {
  const s = requireState(dir);
  if (pidAlive(s.pid)) {
    await control(dir, 'down', []);
    const deadline = Date.now() + 60_000;
    while (pidAlive(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (pidAlive(s.pid))
      throw new OrdoError('TESTNET_STOP_TIMEOUT', `orchestrator pid ${s.pid} did not stop within 60 s`);
    process.stdout.write('testnet stopped\n');
    return 0;
  }
  const n = await killLeftovers(s);
  removeState(dir);
  process.stdout.write(`orchestrator was gone; stopped ${n} leftover node processes\n`);
  return 0;
}

async function peerIdCommand(a: ReturnType<typeof parse>): Promise<number> {
  const home = strArg(a, 'home');
  if (home === undefined) throw new UsageError('peer-id needs --home DIR', USAGE);
  const key = await loadOrCreateIdentity(homePaths(home).p2pKey);
  process.stdout.write(`${peerIdFromPrivateKey(key).toString()}\n`);
  return 0;
}

function genesisCommand(a: ReturnType<typeof parse>): number {
  const raw = a.values.validator as unknown as string[] | undefined;
  const out = strArg(a, 'out');
  if (raw === undefined || raw.length === 0)
    throw new UsageError('genesis needs at least one --validator NAME=PUBKEY', USAGE);
  if (out === undefined) throw new UsageError('genesis needs --out FILE', USAGE);
  const validators = raw.map((v) => {
    const m = /^([A-Za-z0-9._-]{1,64})=(?:0x)?([0-9a-fA-F]{64})$/.exec(v);
    if (m === null)
      throw new UsageError(`--validator must be NAME=PUBKEY (64 hex characters), got "${v}"`, USAGE);
    return { name: m[1]!, publicKey: m[2]!.toLowerCase() };
  });
  const rollups = testnetRollups(intArg(a, 'rollups', 4, USAGE, 3, 64));
  const g = makeGenesis({
    chainId: strArg(a, 'chain-id') ?? 'ordo-testnet',
    validators,
    rollups,
    ...(a.values['no-auction'] === true ? {} : { auction: demoAuction(rollups) }),
  });
  writeFileSync(out, `${JSON.stringify(g, null, 2)}\n`);
  process.stdout.write(
    `wrote ${out}: chain ${g.chainId}, ${validators.length} validators, ${g.rollups.length} rollups\n`,
  );
  return 0;
}
