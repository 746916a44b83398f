// Key material for the Version benchmark: one generated cluster, used by
// both servers so they present the same kinds of certificates.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  contextCredentials,
  currentContext,
  parseNodectlConfig,
  parseSecrets,
  writeGeneratedConfig,
} from "../src/machinery/client/index.js";
import type { ContextCredentials } from "../src/machinery/client/nodectl-config.js";
import { issueServerCert } from "../src/pki/index.js";

/** What the benchmark needs from `nodectl gen config`, plus the bare server's cert directory. */
export interface BenchCluster {
  /** Temporary directory holding everything below; removed by the caller. */
  readonly dir: string;
  /** node.yaml, applied to machined in maintenance mode. */
  readonly nodeConfig: Buffer;
  /** The generated admin client context (CA, client cert and key). */
  readonly client: ContextCredentials;
  /** Directory with ca.pem, server.pem, server-key.pem for bench/bare-server. */
  readonly bareCertDir: string;
}

/**
 * Generates a cluster exactly as `nodectl gen config` does (RSA 2048 CA,
 * admin client cert), and mints the bare server's serving cert from the same
 * CA with issueServerCert, the call machined makes at boot.
 */
export async function createBenchCluster(): Promise<BenchCluster> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-bench-"));
  const paths = await writeGeneratedConfig(join(dir, "gen"), "bench");
  const nodeConfig = await readFile(paths.nodeConfigPath);
  const client = contextCredentials(currentContext(parseNodectlConfig(await readFile(paths.nodectlConfigPath, "utf8"), paths.nodectlConfigPath)));
  const secrets = parseSecrets(await readFile(paths.secretsPath, "utf8"), paths.secretsPath);
  const serving = issueServerCert(secrets.ca, { commonName: "bench-bare", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] });
  const bareCertDir = join(dir, "bare");
  await mkdir(bareCertDir, { mode: 0o700 });
  await writeFile(join(bareCertDir, "ca.pem"), secrets.ca.certPem, { mode: 0o600 });
  await writeFile(join(bareCertDir, "server.pem"), serving.certPem, { mode: 0o600 });
  await writeFile(join(bareCertDir, "server-key.pem"), serving.keyPem, { mode: 0o600 });
  return { dir, nodeConfig, client, bareCertDir };
}
