/**
 * The closed set of error codes used across Cairn. Each maps to exactly one
 * gRPC status at the API edge (src/server/status.ts); there are no ad-hoc codes.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "CONFIG_INVALID"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "UNAVAILABLE"
  | "UNIMPLEMENTED"
  | "DEADLINE_EXCEEDED"
  | "RESOURCE_EXHAUSTED"
  | "INTERNAL";

/** One precise problem, e.g. a config field path and what is wrong with it. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

/**
 * CairnError is the one error type the project throws on purpose. `cause`
 * keeps the original error for logs; only `message`, `details` and `hint`
 * ever reach a client.
 */
export class CairnError extends Error {
  override readonly name = "CairnError";
  readonly code: ErrorCode;
  readonly details: readonly ErrorDetail[];
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; details?: readonly ErrorDetail[]; hint?: string } = {},
  ) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.details = opts.details ?? [];
    this.hint = opts.hint;
  }

  /** Passes a CairnError through; wraps anything else as INTERNAL, keeping it as cause. */
  static from(e: unknown, code: ErrorCode = "INTERNAL"): CairnError {
    if (e instanceof CairnError) return e;
    return new CairnError(code, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** Type guard that also works across duplicated copies of this module. */
export function isCairnError(e: unknown): e is CairnError {
  return e instanceof CairnError || (e instanceof Error && e.name === "CairnError" && "code" in e);
}
