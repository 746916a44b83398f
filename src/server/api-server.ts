import { Server, type ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { MachineServiceService } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import type { CallGate } from "./call-context.js";
import { addLazyReflection } from "./lazy-reflection.js";
import { API_LIMITS } from "./limits.js";
import { machineService } from "./machine-service.js";
import type { NodeApi } from "./node-api.js";

/** A running gRPC server; close() is idempotent and bounded. */
export interface ApiServer {
  readonly port: number;
  readonly gate: CallGate;
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the machine API on `listen` (host:port) with the given credentials
 * and gate, plus server reflection so grpcurl and other generic clients can
 * discover the API.
 */
export async function startApiServer(opts: { listen: string; credentials: ServerCredentials; gate: CallGate; node: NodeApi; log: Logger }): Promise<ApiServer> {
  const server = new Server({
    "grpc.max_receive_message_length": API_LIMITS.maxReceiveMessageBytes,
    "grpc.max_send_message_length": API_LIMITS.maxSendMessageBytes,
    "grpc.max_concurrent_streams": API_LIMITS.maxConcurrentStreams,
  });
  server.addService(MachineServiceService, machineService({ gate: () => opts.gate, log: opts.log }, opts.node));
  addLazyReflection(server, opts.log);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.listen, opts.credentials, (err, p) =>
      err ? reject(new CairnError("UNAVAILABLE", `cannot listen on ${opts.listen}: ${err.message}`, { cause: err })) : resolve(p),
    ),
  );
  opts.log.info({ listen: opts.listen, port, gate: opts.gate.kind }, "machine API listening");
  let closing: Promise<void> | undefined;
  return {
    port,
    gate: opts.gate,
    close(graceMs = 2000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
