import { status } from "@grpc/grpc-js";
import type { CallError } from "../../../src/machinery/client/index.js";

const NAMES = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k])) as Record<number, string>;

/** Awaits a call that must fail and returns its gRPC error (throws if it succeeded or failed without a code). */
export async function grpcError(call: Promise<unknown> | AsyncIterable<unknown>): Promise<CallError> {
  try {
    if (Symbol.asyncIterator in call) {
      for await (const _ of call) {
        // drain: the refusal may come after the stream opens
      }
    } else {
      await call;
    }
  } catch (e) {
    if (typeof (e as CallError).code !== "number") throw new Error(`expected a gRPC error, got ${String(e)}`);
    return e as CallError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Asserts the call fails with `code`; the message names both codes and the node's text. */
export async function expectCode(call: Promise<unknown> | AsyncIterable<unknown>, code: status): Promise<CallError> {
  const err = await grpcError(call);
  if (err.code !== code) {
    throw new Error(`expected ${NAMES[code]}, got ${NAMES[err.code] ?? err.code}: ${err.details}`);
  }
  return err;
}
