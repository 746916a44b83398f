// The measurement plan: every scenario against both servers, a few rounds,
// alternating which server goes first so drift in host load hits both alike.
import { loadavg } from "node:os";
import type { ContextCredentials } from "../src/machinery/client/nodectl-config.js";
import { cpuTimeMs } from "./cpu.js";
import { measure, type Shape } from "./load.js";
import type { Target } from "./servers.js";

/** One load shape, measured identically against each server. */
export interface Scenario extends Shape {
  readonly id: string;
  readonly label: string;
  readonly total: number;
  readonly warmup: number;
}

/** One measured run of one scenario against one server. */
export interface RunSample {
  readonly scenario: string;
  readonly server: Target["name"];
  readonly round: number;
  readonly latenciesMs: Float64Array;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  /** Server process CPU (user+system) per request, µs; undefined without /proc. */
  readonly serverCpuUsPerRequest: number | undefined;
  readonly loadavg1: number;
}

/**
 * Brings both servers to steady state before anything is recorded: a fresh
 * node process runs its first few thousand calls in the interpreter and
 * baseline JIT tiers, which would otherwise land in round 1 only.
 */
export async function warmUp(targets: { machined: Target; bare: Target }, creds: ContextCredentials, calls: number): Promise<void> {
  for (const target of [targets.machined, targets.bare]) {
    await measure(target.endpoint, creds, { callers: 1, channels: 1 }, calls, 0);
    await measure(target.endpoint, creds, { callers: 16, channels: 16 }, calls, 0);
  }
}

/** Runs `rounds` rounds; in each, every scenario against both servers, order alternating. */
export async function runRounds(
  targets: { machined: Target; bare: Target },
  creds: ContextCredentials,
  scenarios: readonly Scenario[],
  rounds: number,
  progress: (line: string) => void,
): Promise<RunSample[]> {
  const samples: RunSample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, sc] of scenarios.entries()) {
      const order = (round + i) % 2 === 0 ? [targets.machined, targets.bare] : [targets.bare, targets.machined];
      for (const target of order) {
        const cpu0 = cpuTimeMs(target.child.pid);
        const r = await measure(target.endpoint, creds, sc, sc.total, sc.warmup);
        const cpu1 = cpuTimeMs(target.child.pid);
        // CPU includes the warm-up; count it in the denominator too.
        const cpuCalls = sc.total + Math.max(sc.warmup, sc.channels);
        const sample: RunSample = {
          scenario: sc.id,
          server: target.name,
          round,
          latenciesMs: r.latenciesMs,
          elapsedMs: r.elapsedMs,
          requestsPerSecond: (sc.total * 1000) / r.elapsedMs,
          serverCpuUsPerRequest: cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / cpuCalls : undefined,
          loadavg1: loadavg()[0] ?? 0,
        };
        samples.push(sample);
        progress(`round ${round + 1}/${rounds} ${sc.id.padEnd(10)} ${target.name.padEnd(8)} ${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s  (${(r.elapsedMs / 1000).toFixed(1)} s)`);
      }
    }
  }
  return samples;
}
