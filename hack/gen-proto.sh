#!/usr/bin/env bash
# Regenerates src/api/gen from proto/cairn and src/workloads/containerd/gen
# from the vendored containerd protos (proto/third_party) with protoc + ts-proto.
# Deletes the old output first so a renamed proto leaves nothing stale behind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
TS_PROTO_OPT=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,env=node,forceLong=number,oneof=unions,useOptionals=none,outputTypeRegistry=false
rm -rf src/api/gen
mkdir -p src/api/gen
protoc \
  --plugin=protoc-gen-ts_proto=./node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out=src/api/gen \
  --ts_proto_opt=$TS_PROTO_OPT \
  --proto_path=proto \
  $(find proto/cairn -name '*.proto' | sort)
# A descriptor set lets the server answer reflection without shipping .proto files.
protoc --proto_path=proto --include_imports --include_source_info --descriptor_set_out=src/api/gen/descriptor.binpb $(find proto/cairn -name '*.proto' | sort)
node hack/gen-api-barrel.mjs
rm -f src/api/gen/descriptor.binpb

# containerd v1.6 API clients for src/workloads (no barrel, no descriptor: we are
# only a client). Imports resolve inside proto/third_party, as in containerd's tree.
CTD_GEN=src/workloads/containerd/gen
rm -rf "$CTD_GEN"
mkdir -p "$CTD_GEN"
protoc \
  --plugin=protoc-gen-ts_proto=./node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$CTD_GEN" \
  --ts_proto_opt=$TS_PROTO_OPT \
  --proto_path=proto/third_party \
  $(cd proto/third_party && find github.com/containerd/containerd/api -name '*.proto' | sort) 2> >(grep -v 'Import gogoproto/gogo.proto is unused' >&2)
# The gogoproto and fieldpath options are weak imports that only steer Go code;
# ts-proto still emits empty modules for them (and descriptor.proto). Nothing imports them.
rm -rf "$CTD_GEN/gogoproto" "$CTD_GEN/github.com/containerd/containerd/protobuf" "$CTD_GEN/google/protobuf/descriptor.ts"
