// The baseline of the Version benchmark: a bare @grpc/grpc-js server with the
// same service definition and the same TLS setup as machined (mTLS, TLS 1.3,
// RSA 2048 certs from src/pki, client cert required and verified), but with
// none of machined's per-call machinery (authorization gate, handler wrapper,
// abort signal, logging). Run as its own process:
//   node build/bench/bare-server.js DIR
// where DIR holds ca.pem, server.pem and server-key.pem. Prints
// `{"port":N}` on stdout once listening; exits on SIGTERM or SIGINT.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { arch } from "node:os";
import { Server, type handleUnaryCall } from "@grpc/grpc-js";
import { MachineServiceService, SlotState, type VersionRequest, type VersionResponse } from "../src/api/index.js";
import { mtlsCredentials } from "../src/server/credentials.js";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: bare-server DIR (with ca.pem, server.pem, server-key.pem)\n");
  process.exit(2);
}
const pem = (name: string) => readFileSync(join(dir, name), "utf8");

const started = Date.now();
const bootId = randomUUID();

/** Built per call, field for field like machined's node.version(), so both encode the same amount. */
function versionResponse(): VersionResponse {
  return {
    osVersion: "0.1.0",
    buildId: "bench",
    bootId,
    bootedSlot: "A",
    slots: [
      { name: "A", version: "0.1.0", state: SlotState.SLOT_STATE_GOOD, triesLeft: 0, isDefault: true },
      { name: "B", version: "", state: SlotState.SLOT_STATE_EMPTY, triesLeft: 0, isDefault: false },
    ],
    uptimeSeconds: (Date.now() - started) / 1000,
    hostname: "",
    maintenance: false,
    arch: arch() === "x64" ? "amd64" : arch(),
    runtimeMode: "process",
    nodeVersion: process.version,
    cluster: "bench",
    rolledBackFromVersion: "",
    rollbackReason: "",
    updater: { enabled: false, nodeId: "node-0123456789abcdef", channel: "", strategy: "", phase: "disabled", reason: "", availableVersion: "", stagedVersion: "", holdingLock: false, lastCheckUnixMs: 0, nextWakeUnixMs: 0, lastError: "", badVersions: [] },
  };
}

const version: handleUnaryCall<VersionRequest, VersionResponse> = (_call, callback) => callback(null, versionResponse());

// Same server options as src/server/api-server.ts; unregistered methods answer UNIMPLEMENTED.
const server = new Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
server.addService(MachineServiceService, { version });
server.bindAsync("127.0.0.1:0", mtlsCredentials(pem("ca.pem"), pem("server.pem"), pem("server-key.pem")), (err, port) => {
  if (err) {
    process.stderr.write(`bare-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

const stop = () => server.tryShutdown(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
