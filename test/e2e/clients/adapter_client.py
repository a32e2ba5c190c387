# A rollup's client of the adapter API written from docs/adapter.md and proto/ alone, in Python 3 with
# grpcio, grpcio-tools and cryptography (Debian: python3-grpcio, python3-grpc-tools, python3-cryptography).
# Run by test/e2e/adapter-contract.test.ts where such an interpreter exists. It generates its stubs with the
# command docs/adapter.md gives, submits a transaction, follows StreamBlocks until the transaction's slice
# arrives and verifies every slice by the documented steps 1-4 (header, certificate against the genesis
# validator set, data hash, completeness proof), checks GetTransactionStatus, and a malformed request's
# status and ordo-error-code trailer.
#   adapter_client.py HOST:PORT GENESIS_JSON PROTO_DIR WORK_DIR
import hashlib, json, os, struct, subprocess, sys, time

ADDR, GENESIS, PROTO, WORK = sys.argv[1:5]
# docs/adapter.md "Generating a client", Python
subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", PROTO, "--python_out=.", "--grpc_python_out=.",
                "ordo/v1/tx.proto", "ordo/v1/block.proto", "ordo/adapter/v1/adapter.proto"], cwd=WORK, check=True)
sys.path.insert(0, WORK)
import grpc  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402
from ordo.adapter.v1 import adapter_pb2 as pb, adapter_pb2_grpc as rpc  # noqa: E402
from ordo.v1 import block_pb2  # noqa: E402

genesis = json.load(open(GENESIS))
CHAIN = genesis["chainId"]
VALIDATORS = [(Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["publicKey"])), v["votingPower"])
              for v in genesis["validators"]]
NS = [r["namespace"] for r in genesis["rollups"] if r.get("kind", "opaque") == "opaque"][0]

sha = lambda *b: hashlib.sha256(b"".join(b)).digest()
u8 = lambda n: struct.pack(">B", n); u32 = lambda n: struct.pack(">I", n); u64 = lambda n: struct.pack(">Q", n)


def fail(msg):
    raise SystemExit(f"FAIL: {msg}")


def inner(l, r):
    return (min(l[0], r[0]), max(l[1], r[1]),
            sha(b"\x01", u32(l[0]), u32(l[1]), l[2], u32(r[0]), u32(r[1]), r[2]))


def verify_slice(m, expected_height):
    # 1. header
    h = sha(m.header)
    if h != m.block_hash: fail(f"height {m.height}: block_hash is not sha256(header)")
    hdr = block_pb2.BlockHeader(); hdr.ParseFromString(m.header)
    if hdr.chain_id != CHAIN: fail("chain id")
    if not (hdr.height == m.certificate.height == m.height == expected_height): fail(f"height {m.height}")
    if hdr.time_ms != m.time_ms: fail("time_ms")
    # 2. certificate: strictly increasing indices, every signature over the precommit sign bytes
    c = m.certificate
    if c.block_hash != h: fail("certificate block hash")
    sign_bytes = sha(b"ordo/vote/v1", u32(len(CHAIN.encode())), CHAIN.encode(), b"\x02", u64(c.height), u32(c.round),
                     u32(32), h)
    last, signed = -1, 0
    for s in c.sigs:
        if s.validator_index <= last or s.validator_index >= len(VALIDATORS): fail("signer indices")
        last = s.validator_index
        key, power = VALIDATORS[s.validator_index]
        try:
            key.verify(s.signature, sign_bytes)
        except InvalidSignature:
            fail(f"height {m.height}: bad precommit signature of validator {s.validator_index}")
        signed += power
    if not 3 * signed > 2 * sum(p for _, p in VALIDATORS): fail("certificate below 2/3 of the power")
    # 3. data hash
    if sha(b"ordo/data/v1", m.txs_root, u32(m.span_count), m.spans_root) != hdr.data_hash: fail("data hash")
    # 4. completeness proof of this namespace's transactions against txs_root, n = header.tx_count
    p, n, txs = m.proof, hdr.tx_count, list(m.transactions)
    if not (0 <= p.start <= p.end <= n and p.end - p.start == len(txs)): fail("proof range")
    nodes = list(p.nodes)
    if n == 0:
        if nodes: fail("proof nodes for an empty block")
        root = (0, 0, sha(b""))
    else:
        def build(lo, hi):
            if hi <= p.start or lo >= p.end:
                if not nodes: fail("proof too short")
                x = nodes.pop(0)
                node = (x.min_namespace, x.max_namespace, x.hash)
                if hi <= p.start and not node[1] < NS: fail("a left subtree reaches our namespace")
                if lo >= p.end and not node[0] > NS: fail("a right subtree reaches our namespace")
                return node
            if hi - lo == 1:
                return (NS, NS, sha(b"\x00", u32(NS), sha(u32(NS), txs[lo - p.start])))
            k = 1
            while k * 2 < hi - lo: k *= 2
            return inner(build(lo, lo + k), build(lo + k, hi))
        root = build(0, n)
        if nodes: fail("proof nodes left over")
    if sha(u32(root[0]), u32(root[1]), root[2]) != m.txs_root: fail(f"height {m.height}: proof does not rebuild txs_root")


ch = grpc.insecure_channel(ADDR, options=[("grpc.max_receive_message_length", 8 * 1024 * 1024)])
stub = rpc.RollupAdapterStub(ch)
state = stub.GetCommitmentState(pb.GetCommitmentStateRequest(), timeout=10)
if state.chain_id != CHAIN: fail("GetCommitmentState chain id")
payload = os.urandom(24)
sub = stub.SubmitTransaction(pb.SubmitTransactionRequest(namespace=NS, payload=payload), timeout=10)
if not sub.accepted or sub.tx_hash != sha(u32(NS), payload): fail(f"SubmitTransaction {sub}")

found, verified, height = None, 0, state.soft.height
deadline = time.time() + 60
stream = stub.StreamBlocks(pb.StreamBlocksRequest(namespace=NS, from_height=height), timeout=90)
for m in stream:
    verify_slice(m, height)
    verified += 1
    if payload in list(m.transactions):
        found = (m.height, list(m.transactions).index(payload))
        break
    height += 1
    if time.time() > deadline: fail("the transaction did not arrive within 60 s")
stream.cancel()
if found is None: fail("stream ended")

st = stub.GetTransactionStatus(pb.GetTransactionStatusRequest(tx_hash=sub.tx_hash), timeout=10)
if st.status != pb.TX_STATUS_COMMITTED or st.height != found[0]: fail(f"GetTransactionStatus {st}")

# A malformed request: a 31-byte hash is INVALID_ARGUMENT with trailer ordo-error-code INVALID_ARGUMENT.
try:
    stub.GetTransactionStatus(pb.GetTransactionStatusRequest(tx_hash=b"\x00" * 31), timeout=10)
    fail("a 31-byte tx_hash was accepted")
except grpc.RpcError as e:
    code = dict(e.trailing_metadata() or ()).get("ordo-error-code")
    if e.code() != grpc.StatusCode.INVALID_ARGUMENT or code != "INVALID_ARGUMENT": fail(f"{e.code()} {code}")
ch.close()
print(f"ok: stubs generated, {verified} slices verified (header, certificate, data hash, completeness), "
      f"tx committed at height {found[0]}, malformed request refused")
