#!/usr/bin/env bash
# Creates the development release signing key pair in hack/.keys/ (git-ignored)
# unless one exists, and prints its key id. The imager does the same on its
# own; this is for signing or inspecting without building an image. Never sign
# a real release with it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/src/image/release-key.js ] || npm run build >/dev/null
node --input-type=module -e '
  const { ensureReleaseKey } = await import("./build/src/image/release-key.js");
  const k = ensureReleaseKey("hack/.keys");
  console.log(`release key ${k.keyId}: hack/.keys/release.key.pem (private), hack/.keys/release.pub.pem (public)`);
'
