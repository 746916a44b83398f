// The two servers under test, each in its own process, both ending up
// reachable over mTLS at 127.0.0.1:PORT with the same client credentials.
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MachineClient, maintenanceChannelCredentials, mtlsChannelCredentials } from "../src/machinery/client/index.js";
import type { BenchCluster } from "./cluster.js";
import { startNode, type Child } from "./subprocess.js";

/** A server under test. */
export interface Target {
  readonly name: "machined" | "bare";
  readonly endpoint: string;
  readonly child: Child;
}

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** A port free right now on loopback (machined takes --listen, not port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Starts process-mode machined on a fresh state dir, applies the generated
 * node.yaml in maintenance mode, and waits until Version answers over mTLS.
 */
export async function startMachined(cluster: BenchCluster): Promise<Target> {
  const state = join(cluster.dir, "machined-state");
  await mkdir(state);
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const { child } = await startNode([join(repo, "bin/machined.js"), "--mode", "process", "--state", state, "--listen", endpoint], {
    name: "machined",
    stream: "stderr",
    ready: (line) => (line.includes("machine API on port") && line.includes("(maintenance)") ? true : undefined),
    timeoutMs: 30_000,
  });
  try {
    const maintenance = new MachineClient(endpoint, maintenanceChannelCredentials(), 10_000);
    try {
      await maintenance.applyConfiguration({ data: cluster.nodeConfig });
    } finally {
      maintenance.close();
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new MachineClient(endpoint, mtlsChannelCredentials(cluster.client), 2000);
      try {
        const v = await client.version();
        if (!v.maintenance) break;
      } catch {
        // Still switching from maintenance TLS to mTLS.
      } finally {
        client.close();
      }
      if (Date.now() > deadline) throw new Error("machined did not switch to mTLS within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await child.stop();
    throw e;
  }
  return { name: "machined", endpoint, child };
}

/** Starts bench/bare-server (compiled) with the cluster's bare serving cert. */
export async function startBare(cluster: BenchCluster): Promise<Target> {
  const script = fileURLToPath(new URL("./bare-server.js", import.meta.url));
  const { child, value: port } = await startNode([script, cluster.bareCertDir], {
    name: "bare-server",
    stream: "stdout",
    ready: (line) => {
      try {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        return typeof port === "number" ? port : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs: 15_000,
  });
  return { name: "bare", endpoint: `127.0.0.1:${port}`, child };
}
