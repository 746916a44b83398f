import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { CairnError, isCairnError, type ErrorCode } from "../errors/index.js";

/** The one table from Cairn error codes to gRPC status codes. */
const GRPC_CODE: Readonly<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  CONFIG_INVALID: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  INTERNAL: status.INTERNAL,
};

/** Trailer carrying structured details (field paths) as JSON for typed clients. */
export const DETAILS_METADATA_KEY = "cairn-error-details";

/**
 * Turns anything thrown by a handler into a gRPC status. A CairnError keeps
 * its message and details; anything else becomes INTERNAL with a generic
 * message, since grpc-js would otherwise send the raw message as UNKNOWN.
 */
export function toServiceError(e: unknown): Partial<ServiceError> {
  if (!isCairnError(e)) {
    return { code: status.INTERNAL, details: "internal error (see the node's machined log)" };
  }
  const lines = e.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
  const metadata = new Metadata();
  if (e.details.length > 0) metadata.set(DETAILS_METADATA_KEY, JSON.stringify(e.details));
  const text = [e.message, ...lines.map((l) => `  ${l}`)].join("\n");
  return { code: GRPC_CODE[e.code], details: e.hint ? `${text}\nhint: ${e.hint}` : text, metadata };
}

export { CairnError };
