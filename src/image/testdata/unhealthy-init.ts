/**
 * Test entry for the unhealthy-trial e2e test: machined as PID 1 (metal
 * mode), exactly as cmd/machined.ts starts it, plus one required health
 * check that always fails. The node boots, serves the API, then refuses
 * to bless its trial boot and reboots, so after three tries systemd-boot
 * falls back to the previous slot. The failing check is baked into this
 * entry at build time: no flag or environment variable can turn it on in
 * a real image. It keeps the default 10 s bless grace so that a test
 * polling Version from the host sees the trial boot answer even on a
 * loaded TCG guest (with a 1 s grace a CI run at load missed the window:
 * a first TLS call to a fresh guest can take seconds).
 */
import { writeSync } from "node:fs";
import { createLogger } from "../../log/index.js";
import { installCrashGuards, LogStore, runNode, type HealthCheck } from "../../init/index.js";
import { createLinuxPlatform } from "../../platform/linux/linux-platform.js";

const alwaysFails: HealthCheck = {
  name: "test-required",
  check: () => {
    writeSync(1, "CAIRN-UNHEALTHY-INIT: required health check failing on purpose\n");
    return { status: "failed", message: "this test image's required check always fails" };
  },
};

async function main(): Promise<void> {
  // The API server's records (component "api") form apid's log.
  const logs = new LogStore(2000, { api: "apid" });
  const log = createLogger({ destination: logs.sink("machined", process.stdout) });
  installCrashGuards(log);
  const announce = (line: string) => process.stderr.write(`${line}\n`);
  await runNode({ platform: createLinuxPlatform(), listen: "0.0.0.0:50000", log, logs, announce, healthChecks: [alwaysFails] });
}

main().catch((e: unknown) => {
  process.stderr.write(`unhealthy-init: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
  // Never exit as PID 1; the test's node reboots on its own once the check fails.
  setInterval(() => undefined, 1 << 30);
});
