#!/usr/bin/env bash
# The main job, end to end on a fresh machine: install what is needed, build
# a Cairn image, boot it in QEMU, configure it over the API and drive it with
# nodectl (version, services, config, reboot proven by boot_id), then clean up.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${CAIRN_DEMO_VERSION:-0.1.0}"
DEMO="${CAIRN_DEMO_DIR:-$PWD/.cache/demo}"
export CAIRN_STATE_ROOT="$DEMO/clusters"
export NODECTL_CONFIG="$DEMO/nodectlconfig"
nodectl() { node bin/nodectl.js "$@"; }

step() { printf '\n== %s\n' "$*"; }
wait_for() { # wait_for SECONDS command...: polls until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "timed out waiting for: $*" >&2; return 1; fi
    sleep 1
  done
}

step "install Debian packages and npm dependencies"
bash hack/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund

step "build the image dist/cairn-$VERSION-amd64.raw"
npm run image -- --version "$VERSION"

step "boot one node in QEMU (maintenance mode)"
nodectl cluster destroy demo >/dev/null 2>&1 || true
rm -rf "$DEMO"; mkdir -p "$DEMO"
trap 'nodectl cluster destroy demo >/dev/null 2>&1 || true' EXIT
nodectl cluster create demo --image "dist/cairn-$VERSION-amd64.raw" --maintenance
EP=$(nodectl cluster list -o json | node -e 'const c=JSON.parse(require("fs").readFileSync(0,"utf8")).find(c=>c.state.name==="demo"); console.log(c.state.nodes[0].apiEndpoint)')
CONSOLE="$CAIRN_STATE_ROOT/demo/demo-node-1/console.log"
wait_for 180 nodectl version --insecure -n "$EP"
nodectl version --insecure -n "$EP"
FP=$(grep -o 'certificate fingerprint [0-9A-F:]*' "$CONSOLE" | tail -1 | awk '{print $3}')

step "apply the generated config (pinning the fingerprint printed on the console)"
nodectl apply-config --insecure --cert-fingerprint "$FP" -n "$EP" -f "$CAIRN_STATE_ROOT/demo.node.yaml" | head -1
wait_for 60 nodectl version

step "drive it over mTLS"
nodectl version
nodectl services
nodectl get config | head -12
nodectl read /proc/mounts | grep ' / '

step "reboot and prove it by boot_id (nodectl follows the old and the new boot)"
nodectl reboot --wait --timeout 3m
nodectl version

step "shut down"
nodectl shutdown --wait --timeout 2m
echo "demo done: the node booted, was configured over the API, rebooted and powered off"
