#!/usr/bin/env bash
# Builds the node image and runs the compose testnet (testnet/compose.yaml: init + 4 validators, plus
# Prometheus and Grafana when their images can be had) until every node reports a committed block and
# sees its 3 peers, checks the nodes run as a non-root user, then removes it. Called by .ci/run.
# Without a Docker daemon and compose (the `docker compose` plugin, or docker-compose >= 1.29) it says
# so and exits 0: CI never fails for lack of Docker. Where node:24-slim cannot be pulled it builds the
# stand-in base image (testnet/base-image.sh, needs root + debootstrap) or says why it cannot.
#   ORDO_BASE_IMAGE=IMAGE   use this base image (e.g. ordo-node-base:24 made earlier) without trying a pull
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "::ci:: SKIPPED: container image build and compose testnet ($1)"
  exit 0
}
command -v docker >/dev/null 2>&1 || skip "no docker client"
docker info >/dev/null 2>&1 || skip "no Docker daemon"
if docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose_cmd=(docker-compose)
else
  skip "no docker compose plugin nor docker-compose"
fi

if [ -z "${ORDO_BASE_IMAGE:-}" ]; then
  if docker image inspect node:24-slim >/dev/null 2>&1 || timeout 120 docker pull -q node:24-slim >/dev/null 2>&1; then
    ORDO_BASE_IMAGE=node:24-slim
  elif docker image inspect ordo-node-base:24 >/dev/null 2>&1; then
    ORDO_BASE_IMAGE=ordo-node-base:24
  elif [ "$(id -u)" = "0" ] && command -v debootstrap >/dev/null 2>&1; then
    echo "::ci:: node:24-slim cannot be pulled: building the stand-in base image (testnet/base-image.sh)"
    bash testnet/base-image.sh ordo-node-base:24
    ORDO_BASE_IMAGE=ordo-node-base:24
  else
    skip "node:24-slim cannot be pulled and the stand-in base image needs root and debootstrap"
  fi
fi
export ORDO_BASE_IMAGE

# Prometheus and Grafana come from an image registry; without them the validators are still tested.
services=(init node0 node1 node2 node3)
monitoring=yes
for image in prom/prometheus:v3.5.0 grafana/grafana:12.1.0; do
  docker image inspect "$image" >/dev/null 2>&1 || timeout 120 docker pull -q "$image" >/dev/null 2>&1 || monitoring=no
done
if [ "$monitoring" = yes ]; then
  services+=(prometheus grafana)
else
  echo "::ci:: Prometheus/Grafana images cannot be pulled here: starting the validators only"
fi

project="ordo-ci-$$"
compose=("${compose_cmd[@]}" -f testnet/compose.yaml -p "$project")
cleanup() { "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "::ci:: building the image (base $ORDO_BASE_IMAGE) and starting the compose testnet ($project, ${compose_cmd[*]})"
"${compose[@]}" build init
"${compose[@]}" up -d "${services[@]}"

status() {
  curl -s -m 2 -X POST "http://127.0.0.1:$1" -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"ordo_status","params":[]}' |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const r=JSON.parse(s).result;console.log(`${r.height??0} ${r.peers??0}`)}catch{console.log("0 0")}})' ||
    echo "0 0"
}
ok=no
for _ in $(seq 1 120); do
  ok=yes
  line=""
  for port in 8545 8546 8547 8548; do
    read -r height peers < <(status "$port")
    line="$line $port:h=$height,peers=$peers"
    if [ "${height:-0}" -lt 1 ] || [ "${peers:-0}" -lt 3 ]; then ok=no; fi
  done
  [ "$ok" = yes ] && break
  sleep 2
done
if [ "$ok" != yes ]; then
  echo "::ci:: compose testnet: not every node committed a block with 3 peers within 240 s ($line); logs:" >&2
  "${compose[@]}" logs --tail 40 >&2 || true
  exit 1
fi
uid=$("${compose[@]}" exec -T node0 id -u | tr -d '\r')
if [ "$uid" = "0" ]; then
  echo "::ci:: the node container runs as root" >&2
  exit 1
fi
if [ "$monitoring" = yes ]; then
  up=0
  for _ in $(seq 1 30); do
    up=$(curl -s -m 2 'http://127.0.0.1:9099/api/v1/query?query=sum(up%7Bjob%3D%22ordo%22%7D)' |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.result[0].value[1])}catch{console.log(0)}})' || echo 0)
    [ "$up" = "4" ] && break
    sleep 2
  done
  if [ "$up" != "4" ]; then
    echo "::ci:: Prometheus scrapes $up of 4 nodes" >&2
    exit 1
  fi
  echo "::ci:: Prometheus scrapes all 4 nodes"
fi
echo "::ci:: compose testnet OK:$line, node0 running as uid $uid"
