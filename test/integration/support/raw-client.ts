import { Client, Metadata, type ChannelCredentials, type ClientOptions } from "@grpc/grpc-js";
import { MachineServiceService, type MethodName } from "../../../src/api/index.js";

/** How a raw call ended: the gRPC status and how many response messages arrived first. */
export interface RawOutcome {
  code: number;
  details: string;
  responses: number;
}

const identity = (b: Buffer): Buffer => b;

/**
 * A generic grpc-js client that sends raw bytes to any MachineService method,
 * bypassing the generated serializers. Tests use it to send what a typed
 * client never would (garbage, truncated or oversized protobuf) and to call
 * every method of the generated service definition without knowing its types.
 * Every call resolves with its status; it never throws for a gRPC error.
 */
export class RawClient {
  readonly client: Client;

  constructor(address: string, creds: ChannelCredentials, options: ClientOptions = {}) {
    this.client = new Client(address, creds, options);
  }

  /** Calls `method` with `messages` (one for unary/server-streaming requests, any number for client streams). */
  call(method: MethodName, messages: readonly Buffer[], opts: { deadlineMs?: number } = {}): Promise<RawOutcome> {
    const def: { path: string; requestStream: boolean; responseStream: boolean } = MachineServiceService[method];
    const options = { deadline: Date.now() + (opts.deadlineMs ?? 15_000) };
    const md = new Metadata();
    let responses = 0;
    return new Promise<RawOutcome>((resolve) => {
      const done = (err: { code?: number; details?: string } | null): void =>
        resolve({ code: err?.code ?? 0, details: err?.details ?? "", responses });
      if (!def.requestStream && !def.responseStream) {
        this.client.makeUnaryRequest(def.path, identity, identity, messages[0] ?? Buffer.alloc(0), md, options, (err) => {
          if (!err) responses++;
          done(err);
        });
      } else if (!def.requestStream) {
        const s = this.client.makeServerStreamRequest(def.path, identity, identity, messages[0] ?? Buffer.alloc(0), md, options);
        s.on("data", () => responses++);
        s.on("error", () => undefined);
        s.on("status", (st) => done(st.code === 0 ? null : st));
      } else if (!def.responseStream) {
        const w = this.client.makeClientStreamRequest(def.path, identity, identity, md, options, (err) => {
          if (!err) responses++;
          done(err);
        });
        for (const m of messages) w.write(m);
        w.end();
      } else {
        const s = this.client.makeBidiStreamRequest(def.path, identity, identity, md, options);
        s.on("data", () => responses++);
        s.on("error", () => undefined);
        s.on("status", (st) => done(st.code === 0 ? null : st));
        for (const m of messages) s.write(m);
        s.end();
      }
    });
  }

  close(): void {
    this.client.close();
  }
}
