// `npm run bench`: three sections, run in this order.
// - rpc: Version RPC over mTLS on loopback, process-mode machined versus a bare
//   grpc-js server with the same TLS setup, each in its own process.
//   Method and latest numbers: bench/README.md.
// - boot: Cairn boot to API vs a Debian baseline under QEMU (bench/boot/).
//   Method and latest numbers: docs/boot-performance.md.
// - upgrade: `nodectl upgrade --wait` vs `nodectl reboot --wait` on one QEMU
//   node, and the node's install split (bench/upgrade/). Numbers: docs/upgrades.md.
// `npm run bench -- --only rpc|boot|upgrade` runs one section.
import { rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { runBootBench } from "./boot/index.js";
import { runUpgradeBench } from "./upgrade/index.js";
import { createBenchCluster } from "./cluster.js";
import { formatTable, formatVerdict, machineInfo, summarise, writeResults, TARGET_RATIO } from "./report.js";
import { runRounds, warmUp, type Scenario } from "./rounds.js";
import { startBare, startMachined, type Target } from "./servers.js";

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SEQ = env("BENCH_SEQ", 2000);
const CONC = env("BENCH_CONC", 4000);
const WARMUP = env("BENCH_WARMUP", 2000);
const ROUNDS = env("BENCH_ROUNDS", 3);

const SCENARIOS: readonly Scenario[] = [
  { id: "seq", label: "1 connection, 1 caller, sequential", callers: 1, channels: 1, total: SEQ, warmup: 300 },
  { id: "c16-1ch", label: "16 concurrent callers sharing 1 channel (1 TLS connection, HTTP/2 multiplexed)", callers: 16, channels: 1, total: CONC, warmup: 500 },
  { id: "c16-16ch", label: "16 concurrent callers, 16 channels (16 TLS connections)", callers: 16, channels: 16, total: CONC, warmup: 500 },
];

const SECTIONS = ["rpc", "boot", "upgrade"] as const;
type Section = (typeof SECTIONS)[number];

/** `--only rpc|boot` (also `--only=boot`); default: every section. */
function sectionsFromArgs(argv: readonly string[]): readonly Section[] {
  const i = argv.findIndex((a) => a === "--only" || a.startsWith("--only="));
  if (i < 0) return SECTIONS;
  const arg = argv[i] as string;
  const v = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[i + 1];
  if (!SECTIONS.includes(v as Section)) throw new Error(`--only takes one of ${SECTIONS.join(", ")}; got ${String(v)}`);
  return [v as Section];
}

async function main(): Promise<void> {
  const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
  const sections = sectionsFromArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (sections.includes("rpc")) await runRpcBench(repoRoot);
  if (sections.includes("boot")) await runBootBench({ repoRoot, log });
  if (sections.includes("upgrade")) log(`upgrade: results in ${await runUpgradeBench({ repoRoot, log })}`);
}

/** The Version RPC section (issue 2). */
async function runRpcBench(repoRoot: string): Promise<void> {
  const loadBefore = loadavg();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const t0 = Date.now();
  const cluster = await createBenchCluster();
  const servers: Target[] = [];
  try {
    log("starting machined (process mode) and the bare server...");
    const started = await Promise.allSettled([startMachined(cluster), startBare(cluster)]);
    for (const s of started) if (s.status === "fulfilled") servers.push(s.value);
    const [machined, bare] = started.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    }) as [Target, Target];
    log(`machined pid ${machined.child.pid} at ${machined.endpoint}; bare pid ${bare.child.pid} at ${bare.endpoint}`);
    log(`warm-up: ${WARMUP} sequential + ${WARMUP} concurrent calls per server (not recorded)`);
    await warmUp({ machined, bare }, cluster.client, WARMUP);
    const samples = await runRounds({ machined, bare }, cluster.client, SCENARIOS, ROUNDS, log);
    const summaries = summarise(SCENARIOS, samples);
    const machine = machineInfo(loadBefore);
    const path = await writeResults(repoRoot, {
      benchmark: "version-rpc",
      machine,
      method: {
        rpc: "cairn.machine.v1.MachineService/Version",
        transport: "mTLS (TLS 1.3, RSA 2048 certs from src/pki, client cert required) over 127.0.0.1",
        servers: { machined: "bin/machined.js --mode process, configured with a generated node.yaml", bare: "build/bench/bare-server.js: grpc-js Server, version only, same mtlsCredentials" },
        client: "this process, @grpc/grpc-js MachineServiceClient, one channel per connection (local subchannel pool)",
        warmupPerServer: { sequential: WARMUP, concurrent16x16: WARMUP, perRunPerScenario: "see scenarios[].warmup" },
        rounds: ROUNDS,
        alternation: "per scenario, the server that goes first alternates every round",
        percentiles: "nearest rank over all rounds pooled; req/s and CPU: median over rounds",
        scenarios: SCENARIOS,
        targetRatio: TARGET_RATIO,
      },
      summaries,
      durationSeconds: Math.round((Date.now() - t0) / 1000),
    });
    process.stdout.write(`\nVersion RPC over mTLS on loopback (${ROUNDS} rounds; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")} -> ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${String(machine["cpuCount"])}x ${String(machine["cpuModel"])}; node ${process.version})\n\n`);
    process.stdout.write(`${formatTable(summaries)}\n\n${formatVerdict(summaries)}\n\nresults: ${path}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
    await rm(cluster.dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
