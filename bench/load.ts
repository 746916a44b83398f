// Load generation: Version calls over mTLS with per-call latency capture.
import { Metadata, type ChannelOptions } from "@grpc/grpc-js";
import { MachineServiceClient } from "../src/api/index.js";
import type { ContextCredentials } from "../src/machinery/client/nodectl-config.js";
import { mtlsChannelCredentials } from "../src/machinery/client/index.js";

/** How many concurrent callers, sharing how many channels (TLS connections). */
export interface Shape {
  readonly callers: number;
  readonly channels: number;
}

/** Raw outcome of one measured run. */
export interface LoadResult {
  /** Per-call latency in ms, in completion order. */
  readonly latenciesMs: Float64Array;
  /** Wall time of the measured part, ms. */
  readonly elapsedMs: number;
}

type Call = () => Promise<void>;

/**
 * A Version caller on its own channel. `grpc.use_local_subchannel_pool` keeps
 * grpc-js from sharing one TCP connection between channels with equal
 * credentials, so N channels really are N TLS connections. Each call carries
 * a deadline and fresh metadata, as MachineClient's calls do.
 */
function openChannel(endpoint: string, creds: ContextCredentials): { call: Call; close: () => void } {
  const options: ChannelOptions = { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 64 * 1024 * 1024 };
  const client = new MachineServiceClient(endpoint, mtlsChannelCredentials(creds), options);
  const call: Call = () =>
    new Promise((resolve, reject) => {
      client.version({}, new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err) => (err ? reject(err) : resolve()));
    });
  return { call, close: () => client.close() };
}

/** `callers` loops share `total` calls; each loop awaits its call before the next. */
async function drive(calls: readonly Call[], callers: number, total: number, record?: Float64Array): Promise<void> {
  let next = 0;
  const loop = async (i: number) => {
    const call = calls[i % calls.length] as Call;
    for (;;) {
      const n = next++;
      if (n >= total) return;
      const t0 = process.hrtime.bigint();
      await call();
      if (record) record[n] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, i) => loop(i)));
}

/**
 * Opens the channels, warms them up (TLS handshakes, JIT on both sides; not
 * measured), then measures `total` calls spread over `callers` concurrent
 * callers round-robin over the channels. Channels are closed afterwards so
 * every run starts from fresh connections.
 */
export async function measure(endpoint: string, creds: ContextCredentials, shape: Shape, total: number, warmup: number): Promise<LoadResult> {
  const channels = Array.from({ length: shape.channels }, () => openChannel(endpoint, creds));
  try {
    const calls = channels.map((c) => c.call);
    await drive(calls, Math.max(shape.callers, shape.channels), Math.max(warmup, shape.channels));
    const latenciesMs = new Float64Array(total);
    const t0 = process.hrtime.bigint();
    await drive(calls, shape.callers, total, latenciesMs);
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return { latenciesMs, elapsedMs };
  } finally {
    for (const c of channels) c.close();
  }
}
