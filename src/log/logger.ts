import { pino, type Logger, type DestinationStream } from "pino";

/**
 * Paths pino blanks before a record is written. Keys, PEM material and the
 * raw config never reach a log line; callers log field paths, not values.
 */
export const REDACT_PATHS = [
  "key",
  "privateKey",
  "*.key",
  "*.privateKey",
  "*.keyPem",
  "*.caKey",
  "config",
  "*.config",
  "data",
  "*.data",
  "secrets",
  "*.secrets",
  "req.metadata.authorization",
];

export interface LoggerOptions {
  readonly level?: string;
  /** Extra sinks (ring buffer, console); stdout when none are given. */
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
}

/** Creates the root logger. Components take children: `log.child({ component: "x" })`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env["CAIRN_LOG_LEVEL"] ?? "info",
      base: opts.base ?? {},
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    opts.destination,
  );
}

export type { Logger };
