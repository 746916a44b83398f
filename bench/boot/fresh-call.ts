// One unary call on a channel of its own. MachineClient channels share
// grpc-js's global subchannel pool, so a new MachineClient per attempt would
// inherit the reconnect backoff of every earlier failed attempt (it grows to
// minutes): a node that started listening at 25 s was first reached at 77 s.
// A local subchannel pool makes every attempt a fresh TCP + TLS connection.
import { Metadata, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { performance } from "node:perf_hooks";
import { MachineServiceClient, type DataChunk, type StatsResponse, type VersionResponse } from "../../src/api/index.js";

const OPTIONS = { "grpc.use_local_subchannel_pool": 1, "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 200 };

type Cb<Res> = (err: ServiceError | null, res?: Res) => void;

function once<Res>(endpoint: string, creds: ChannelCredentials, deadlineMs: number, call: (c: MachineServiceClient, md: Metadata, opts: { deadline: Date }, cb: Cb<Res>) => unknown): Promise<Res> {
  const client = new MachineServiceClient(endpoint, creds, OPTIONS);
  return new Promise<Res>((resolve, reject) => {
    call(client, new Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  }).finally(() => client.close());
}

export function versionOnce(endpoint: string, creds: ChannelCredentials, deadlineMs: number): Promise<VersionResponse> {
  return once<VersionResponse>(endpoint, creds, deadlineMs, (c, md, o, cb) => c.version({}, md, o, cb));
}

/**
 * Stats twice on one fresh channel: the first call pays TCP + TLS setup, the
 * second is timed, so its midpoint is a tight host time for the guest's uptime.
 */
export async function statsTimed(endpoint: string, creds: ChannelCredentials, deadlineMs: number): Promise<{ stats: StatsResponse; midMs: number }> {
  const client = new MachineServiceClient(endpoint, creds, OPTIONS);
  const call = () => new Promise<StatsResponse>((resolve, reject) => {
    client.stats({}, new Metadata(), { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => (err ? reject(err) : resolve(res as StatsResponse)));
  });
  try {
    await call();
    const t0 = performance.now();
    const stats = await call();
    return { stats, midMs: (t0 + performance.now()) / 2 };
  } finally {
    client.close();
  }
}

/** Guest /proc figures read over the Read RPC; `midMs` is the host time of the /proc/uptime read. */
export interface ProcReading {
  readonly uptimeSeconds: number;
  readonly midMs: number;
  readonly meminfo: string;
  readonly pid1Status: string;
}

/**
 * Reads /proc/uptime (twice: the first read pays TCP + TLS setup, the second
 * is timed), /proc/meminfo and /proc/1/status on one fresh channel. The
 * fallback for Stats, which answers INTERNAL "Error serializing response" on
 * a metal node (found by this benchmark).
 */
export async function readProcTimed(endpoint: string, creds: ChannelCredentials, deadlineMs: number): Promise<ProcReading> {
  const client = new MachineServiceClient(endpoint, creds, OPTIONS);
  const read = (path: string) => new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const call = client.read({ path }, new Metadata(), { deadline: new Date(Date.now() + deadlineMs) });
    call.on("data", (c: DataChunk) => chunks.push(Buffer.from(c.data)));
    call.on("error", reject);
    call.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
  try {
    await read("/proc/uptime");
    const t0 = performance.now();
    const uptime = await read("/proc/uptime");
    const midMs = (t0 + performance.now()) / 2;
    const [meminfo, pid1Status] = [await read("/proc/meminfo"), await read("/proc/1/status")];
    return { uptimeSeconds: Number(uptime.split(/\s+/)[0]), midMs, meminfo, pid1Status };
  } finally {
    client.close();
  }
}
