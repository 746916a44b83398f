import { EventEmitter } from "node:events";
import type { Server, ServerDuplexStream, ServiceDefinition, UntypedHandleCall } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { DESCRIPTOR_SET_BASE64 } from "../api/index.js";

/** The two reflection services grpcurl and other generic clients try. */
const SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] as const;

interface RealMethod {
  readonly requestDeserialize: (b: Buffer) => unknown;
  readonly responseSerialize: (m: unknown) => Buffer;
  readonly handler: (stream: EventEmitter & { write(m: unknown): boolean; end(): void }) => void;
}

/**
 * Loads @grpc/reflection (protobufjs, the descriptor set, two reflection
 * protos) and captures its handlers, once, on the first reflection call.
 */
function loader(): () => Promise<Map<string, RealMethod>> {
  let loading: Promise<Map<string, RealMethod>> | undefined;
  return () =>
    (loading ??= (async () => {
      const [{ loadFileDescriptorSetFromBuffer }, { ReflectionService }] = await Promise.all([import("@grpc/proto-loader"), import("@grpc/reflection")]);
      const methods = new Map<string, RealMethod>();
      const capture = {
        addService(def: ServiceDefinition, impl: Record<string, UntypedHandleCall>) {
          const m = def["ServerReflectionInfo"];
          if (!m) return;
          methods.set(m.path, {
            requestDeserialize: m.requestDeserialize,
            responseSerialize: m.responseSerialize as (x: unknown) => Buffer,
            handler: impl["ServerReflectionInfo"] as unknown as RealMethod["handler"],
          });
        },
      };
      new ReflectionService(loadFileDescriptorSetFromBuffer(Buffer.from(DESCRIPTOR_SET_BASE64, "base64"))).addToServer(capture as unknown as Server);
      return methods;
    })());
}

/**
 * Registers server reflection (v1 and v1alpha) whose implementation loads on
 * the first call. Loading protobufjs and the descriptor set costs seconds of
 * a single-threaded event loop under TCG and ~1-2 MiB of PID 1's memory; done
 * eagerly right after the API started listening, it delayed the first
 * Version answers. The stub passes raw bytes; the real handler gets decoded
 * messages through an adapter once loaded.
 */
export function addLazyReflection(server: Server, log: Logger): void {
  const load = loader();
  for (const service of SERVICES) {
    const path = `/${service}/ServerReflectionInfo`;
    const raw = (b: Buffer): Buffer => b;
    const def: ServiceDefinition = {
      ServerReflectionInfo: {
        path,
        requestStream: true,
        responseStream: true,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
        originalName: "serverReflectionInfo",
      },
    };
    const handler = (call: ServerDuplexStream<Buffer, Buffer>): void => {
      // Messages that arrive while the implementation loads wait here, in order.
      const pending: (["data", Buffer] | ["end"])[] = [];
      let deliver: ((e: ["data", Buffer] | ["end"]) => void) | undefined;
      call.on("data", (b: Buffer) => (deliver ? deliver(["data", b]) : pending.push(["data", b])));
      call.on("end", () => (deliver ? deliver(["end"]) : pending.push(["end"])));
      load().then(
        (methods) => {
          const real = methods.get(path);
          if (!real) throw new Error(`no reflection handler for ${path}`);
          const stream = Object.assign(new EventEmitter(), {
            write: (m: unknown) => call.write(real.responseSerialize(m)),
            end: () => call.end(),
          });
          real.handler(stream);
          deliver = (e) => (e[0] === "data" ? stream.emit("data", real.requestDeserialize(e[1])) : stream.emit("end"));
          for (const e of pending.splice(0)) deliver(e);
        },
        (e: unknown) => {
          log.error({ err: e }, "server reflection unavailable");
          call.destroy(e instanceof Error ? e : new Error(String(e)));
        },
      );
    };
    server.addService(def, { ServerReflectionInfo: handler as UntypedHandleCall });
  }
}
