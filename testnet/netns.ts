/**
 * Network namespaces for the local testnet (`ordo testnet up --netns`, `ordo testnet faults --netns`):
 * each node runs in a namespace of its own, so a partition drops packets between namespaces the way a
 * real network split does, instead of asking the nodes to refuse each other (the admin RPC's
 * connection gater). Root only; `probeNetns` says why not elsewhere and the caller falls back.
 *
 *   root namespace        ordo<pid>r  10.213.N.1/24  ── the orchestrator, load generator, checker, CLI
 *        │ veth
 *   ordo-<pid>-hub        bridge br0 (no address; FORWARD there is empty, unlike a root namespace
 *        │ veth × nodes   with Docker's FORWARD DROP and bridge netfilter on)
 *   ordo-<pid>-node<i>    eth0 10.213.N.(10+i)/24, lo; no default route, so no way out of the subnet
 *
 * Partition = iptables DROP rules in a chain `ordo-partition` of each cut-off node's namespace (INPUT
 * from and OUTPUT to the other side's addresses); heal = flush the chain. Traffic from the root
 * namespace (10.213.N.1) is never dropped: JSON-RPC and gRPC stay reachable for the load generator and
 * the checks. Rules live in the node's namespace, so they survive a restart of the node's process.
 * Optional latency: `tc netem` on every node's eth0.
 *
 * Cleanup: `destroy()` deletes every namespace and the root-side link (the veths go with their
 * namespaces); the orchestrator calls it on every exit path and from its synchronous 'exit' hook.
 * Names carry the creating process's pid: `cleanupStaleNetns()` removes those of dead pids (a run that
 * was SIGKILLed) before a new lab is made.
 */
import { execFileSync } from 'node:child_process';
import { errorMessage, OrdoError } from '../src/errors.ts';

const PREFIX = 'ordo-';
const SUBNET_BASE = '10.213';
const CHAIN = 'ordo-partition';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
}

/** Run a command inside a namespace (`ip netns exec NS ...`). */
function inNs(ns: string, cmd: string, args: string[]): string {
  return run('ip', ['netns', 'exec', ns, cmd, ...args]);
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: Buffer };
  const s = e.stderr?.toString().trim();
  return (s !== undefined && s !== '' ? s : errorMessage(err)).split('\n')[0] ?? '';
}

function has(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Can this process build namespaces here? Needs root, `ip` (iproute2) and `iptables` inside a
 * namespace; `tc` only for latency. Probes by creating and deleting one namespace.
 */
export function probeNetns(): { ok: true; tc: boolean } | { ok: false; reason: string } {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'not root (network namespaces need root)' };
  }
  if (!has('ip', ['-V'])) return { ok: false, reason: 'no `ip` command (iproute2)' };
  if (!has('iptables', ['--version'])) return { ok: false, reason: 'no `iptables` command' };
  const ns = `${PREFIX}${process.pid}-probe`;
  try {
    run('ip', ['netns', 'add', ns]);
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace: ${firstLine(err)}` };
  }
  try {
    inNs(ns, 'iptables', ['-S', 'INPUT']);
  } catch (err) {
    return { ok: false, reason: `iptables does not work inside a namespace: ${firstLine(err)}` };
  } finally {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {
      // nothing to do
    }
  }
  return { ok: true, tc: has('tc', ['-V']) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Our namespaces and root links whose creating process is gone (a run killed before it cleaned up). */
export function cleanupStaleNetns(): string[] {
  const removed: string[] = [];
  let list = '';
  try {
    list = run('ip', ['netns', 'list']);
  } catch {
    return removed;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^ordo-([0-9]+)-/.exec(name);
    if (m === null || pidAlive(Number(m[1]))) continue;
    try {
      run('ip', ['netns', 'del', name]);
      removed.push(name);
    } catch {
      // already gone
    }
  }
  for (const link of rootLinks()) {
    const m = /^ordo([0-9]+)r$/.exec(link);
    if (m === null || pidAlive(Number(m[1]))) continue;
    try {
      run('ip', ['link', 'del', link]);
      removed.push(link);
    } catch {
      // already gone
    }
  }
  return removed;
}

function rootLinks(): string[] {
  try {
    return run('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((l) => /^[0-9]+: ([^:@]+)/.exec(l)?.[1] ?? '')
      .filter((n) => n.startsWith('ordo'));
  } catch {
    return [];
  }
}

/** Every namespace and root-side link name of ours that exists now (tests check none is left). */
export function listOrdoNetns(): string[] {
  let list = '';
  try {
    list = run('ip', ['netns', 'list']);
  } catch {
    return rootLinks();
  }
  const ns = list
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(PREFIX));
  return [...ns, ...rootLinks()];
}

/** A /24 under 10.213 that no root-namespace address uses yet (the pid picks where to start looking). */
function freeSubnet(): number {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  for (let k = 0; k < 256; k++) {
    const n = (process.pid + k) % 256;
    if (!used.includes(` ${SUBNET_BASE}.${n}.`)) return n;
  }
  throw new OrdoError('TESTNET_NETNS_FAILED', `no free /24 under ${SUBNET_BASE}.0.0/16 for the testnet`);
}

/** The iptables commands that make `blocked` unreachable from inside a node's namespace. */
export function partitionRules(blocked: string[]): string[][] {
  const rules: string[][] = [['-F', CHAIN]];
  for (const ip of blocked) {
    rules.push(['-A', CHAIN, '-s', ip, '-j', 'DROP']);
    rules.push(['-A', CHAIN, '-d', ip, '-j', 'DROP']);
  }
  return rules;
}

export interface NetnsLabOptions {
  /** Node ids in order; node i gets 10.213.N.(10+i). */
  nodes: string[];
  /** One-way delay added on every node's interface (tc netem), 0 = none. */
  delayMs?: number;
}

export class NetnsLab {
  readonly tag: string;
  readonly subnet: number;
  readonly hub: string;
  readonly rootLink: string;
  readonly #ids: string[];
  readonly #made: string[] = [];
  #rootLinkMade = false;
  #destroyed = false;

  private constructor(o: NetnsLabOptions) {
    this.tag = String(process.pid);
    this.#ids = o.nodes;
    this.subnet = freeSubnet();
    this.hub = `${PREFIX}${this.tag}-hub`;
    this.rootLink = `ordo${this.tag}r`;
  }

  /** Build every namespace, link and address; on any failure, remove what was made and throw. */
  static create(o: NetnsLabOptions): NetnsLab {
    if (o.nodes.length > 200) throw new OrdoError('TESTNET_BAD_OPTION', '--netns supports at most 200 nodes');
    cleanupStaleNetns();
    const lab = new NetnsLab(o);
    try {
      lab.#build(o.delayMs ?? 0);
    } catch (err) {
      lab.destroy();
      throw new OrdoError(
        'TESTNET_NETNS_FAILED',
        `could not build the testnet's network namespaces: ${firstLine(err)}`,
        undefined,
        { cause: err },
      );
    }
    return lab;
  }

  /** The namespace node `id` runs in. */
  nsOf(id: string): string {
    const i = this.#ids.indexOf(id);
    if (i < 0) throw new OrdoError('TESTNET_UNKNOWN_NODE', `no namespace for node ${id}`);
    return `${PREFIX}${this.tag}-n${i}`;
  }

  /** The address node `id` listens on (reachable from the root namespace). */
  ipOf(id: string): string {
    const i = this.#ids.indexOf(id);
    if (i < 0) throw new OrdoError('TESTNET_UNKNOWN_NODE', `no address for node ${id}`);
    return `${SUBNET_BASE}.${this.subnet}.${10 + i}`;
  }

  /** The root namespace's own address on the testnet's subnet. */
  get rootIp(): string {
    return `${SUBNET_BASE}.${this.subnet}.1`;
  }

  /** Drop every packet between node `id` and these nodes (replaces the node's earlier list; [] heals). */
  setBlocked(id: string, peers: string[]): void {
    const ns = this.nsOf(id);
    for (const r of partitionRules(peers.map((p) => this.ipOf(p)))) inNs(ns, 'iptables', r);
  }

  #build(delayMs: number): void {
    const hub = this.hub;
    run('ip', ['netns', 'add', hub]);
    this.#made.push(hub);
    run('ip', ['-n', hub, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
    // Root side: an address on the subnet, so the orchestrator reaches every node directly.
    run('ip', ['link', 'add', this.rootLink, 'type', 'veth', 'peer', 'name', 'up0', 'netns', hub]);
    this.#rootLinkMade = true;
    run('ip', ['addr', 'add', `${this.rootIp}/24`, 'dev', this.rootLink]);
    run('ip', ['link', 'set', this.rootLink, 'up']);
    run('ip', ['-n', hub, 'link', 'set', 'up0', 'master', 'br0']);
    run('ip', ['-n', hub, 'link', 'set', 'up0', 'up']);
    for (const [i, id] of this.#ids.entries()) {
      const ns = this.nsOf(id);
      run('ip', ['netns', 'add', ns]);
      this.#made.push(ns);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // Created inside the node's namespace, its peer end moved to the hub: no name ever lives in root.
      run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', hub]);
      run('ip', ['-n', hub, 'link', 'set', `p${i}`, 'master', 'br0']);
      run('ip', ['-n', hub, 'link', 'set', `p${i}`, 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${this.ipOf(id)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      inNs(ns, 'iptables', ['-N', CHAIN]);
      inNs(ns, 'iptables', ['-A', 'INPUT', '-j', CHAIN]);
      inNs(ns, 'iptables', ['-A', 'OUTPUT', '-j', CHAIN]);
      if (delayMs > 0) {
        run('ip', [
          'netns',
          'exec',
          ns,
          'tc',
          'qdisc',
          'add',
          'dev',
          'eth0',
          'root',
          'netem',
          'delay',
          `${delayMs}ms`,
        ]);
      }
    }
  }

  /** Remove every namespace and link made (synchronous: also used from a process 'exit' hook). Never throws. */
  destroy(): string[] {
    const problems: string[] = [];
    if (this.#destroyed) return problems;
    this.#destroyed = true;
    for (const ns of this.#made.reverse()) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch (err) {
        problems.push(`ip netns del ${ns}: ${firstLine(err)}`);
      }
    }
    // The veth pair goes with the hub namespace, but only once the kernel has torn it down: delete
    // the root end now so no name is left behind.
    if (this.#rootLinkMade && rootLinks().includes(this.rootLink)) {
      try {
        run('ip', ['link', 'del', this.rootLink]);
      } catch (err) {
        if (rootLinks().includes(this.rootLink))
          problems.push(`ip link del ${this.rootLink}: ${firstLine(err)}`);
      }
    }
    return problems;
  }
}
