#!/usr/bin/env bash
# Regenerates src/api/gen from proto/ with protoc + ts-proto. Deletes the old
# output first so a renamed proto leaves nothing stale behind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
rm -rf src/api/gen
mkdir -p src/api/gen
protoc \
  --plugin=protoc-gen-ts_proto=./node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=src/api/gen \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,env=node,forceLong=number,oneof=unions,useOptionals=none,outputTypeRegistry=false \
  --proto_path=proto \
  $(find proto -name '*.proto' | sort)
# A descriptor set lets the server answer reflection without shipping .proto files.
protoc --proto_path=proto --include_imports --include_source_info --descriptor_set_out=src/api/gen/descriptor.binpb $(find proto -name '*.proto' | sort)
node hack/gen-api-barrel.mjs
rm -f src/api/gen/descriptor.binpb
