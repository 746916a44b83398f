/**
 * The machine API's resource limits, in one place so docs/reliability.md can
 * name them and test/integration/api-abuse.test.ts can push past them.
 * Each one bounds what a single client can make PID 1 hold in memory.
 */
export const API_LIMITS = {
  /** Largest request message (grpc-js refuses bigger ones with RESOURCE_EXHAUSTED before decoding). */
  maxReceiveMessageBytes: 8 * 1024 * 1024,
  /** Largest response message; Read and List stream in 64 KiB pieces, far below this. */
  maxSendMessageBytes: 8 * 1024 * 1024,
  /** Concurrent calls (HTTP/2 streams) per connection; more are refused by HTTP/2 itself. */
  maxConcurrentStreams: 1000,
  /** Largest Upgrade chunk (the proto promises "at most 1 MiB each"; nodectl sends exactly 1 MiB). */
  maxUpgradeChunkBytes: 1024 * 1024,
  /** An Upgrade upload that sends nothing for this long is ended (DEADLINE_EXCEEDED) and its spool file removed. */
  upgradeIdleMs: 30_000,
} as const;
