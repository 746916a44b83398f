import type {
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerReadableStream,
  ServerWritableStream,
  ServiceError,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { MethodName } from "../api/index.js";
import { isCairnError } from "../errors/index.js";
import type { CallContext, CallGate } from "./call-context.js";
import { toServiceError } from "./status.js";
import { peerRoles } from "./peer-roles.js";

/** Shared by every handler: who may call (gate) and where to log. */
export interface HandlerEnv {
  readonly gate: () => CallGate;
  readonly log: Logger;
}

function logFailure(env: HandlerEnv, method: MethodName, e: unknown): void {
  // Expected, typed errors are the caller's problem: info. Anything else is ours.
  if (isCairnError(e)) env.log.info({ method, code: e.code, err: e.message }, "call refused");
  else env.log.error({ method, err: e }, "call failed");
}

/**
 * Authorizes the call (on every call, before the handler runs) and builds its
 * context. The abort signal is created on first read of `ctx.signal`, not per
 * call: grpc-js emits "cancelled" when every call's stream closes, even after
 * a normal reply, and an eager AbortController then paid for an abort (with
 * its DOMException and stack capture) on each call, about a third of
 * machined's per-call overhead on Version in bench/ (see bench/README.md).
 * Only streaming handlers read the signal. Same semantics: grpc-js sets
 * `call.cancelled` before emitting "cancelled", so a signal first read after
 * a cancel starts out aborted, and one read before aborts on the event.
 */
function contextFor(
  env: HandlerEnv,
  method: MethodName,
  call: { getAuthContext: ServerWritableStream<unknown, unknown>["getAuthContext"]; readonly cancelled: boolean; on(ev: "cancelled", fn: () => void): unknown },
): CallContext {
  const roles = env.gate().admit(method, () => peerRoles(call));
  let signal: AbortSignal | undefined;
  return {
    method,
    roles,
    get signal(): AbortSignal {
      if (!signal) {
        const ac = new AbortController();
        if (call.cancelled) ac.abort();
        else call.on("cancelled", () => ac.abort());
        signal = ac.signal;
      }
      return signal;
    },
  };
}

/** Wraps a promise-returning unary handler with authorization and error mapping. */
export function unary<Req, Res>(env: HandlerEnv, method: MethodName, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    void (async () => {
      try {
        const ctx = contextFor(env, method, call);
        callback(null, await fn(call.request, ctx));
      } catch (e) {
        logFailure(env, method, e);
        callback(toServiceError(e) as ServiceError, null);
      }
    })();
  };
}

/** Wraps a server-streaming handler; `send` respects back-pressure. */
export function serverStream<Req, Res>(
  env: HandlerEnv,
  method: MethodName,
  fn: (req: Req, ctx: CallContext, send: (msg: Res) => Promise<void>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    void (async () => {
      try {
        const ctx = contextFor(env, method, call);
        // Waits for drain, or for the client to go away: a client that
        // stops reading and then disconnects never emits drain, and the
        // handler (with its subscriptions) must still end.
        const send = (msg: Res) =>
          new Promise<void>((resolve) => {
            if (call.cancelled || call.write(msg)) return resolve();
            const done = (): void => {
              call.off("drain", done);
              call.off("cancelled", done);
              resolve();
            };
            call.once("drain", done);
            call.once("cancelled", done);
          });
        await fn(call.request, ctx, send);
        call.end();
      } catch (e) {
        logFailure(env, method, e);
        call.emit("error", toServiceError(e));
      }
    })();
  };
}

/** Wraps a client-streaming handler; messages arrive as an async iterable. */
export function clientStream<Req, Res>(
  env: HandlerEnv,
  method: MethodName,
  fn: (messages: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call: ServerReadableStream<Req, Res>, callback) => {
    void (async () => {
      try {
        const ctx = contextFor(env, method, call);
        callback(null, await fn(call as AsyncIterable<Req>, ctx));
      } catch (e) {
        logFailure(env, method, e);
        callback(toServiceError(e) as ServiceError, null);
      }
    })();
  };
}
