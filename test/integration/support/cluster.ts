import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { parse, stringify } from "yaml";
import {
  MachineClient,
  contextCredentials,
  issueClientContext,
  maintenanceChannelCredentials,
  mtlsChannelCredentials,
  parseSecrets,
  writeGeneratedConfig,
  type ClientRole,
  type ClusterSecrets,
} from "../../../src/machinery/client/index.js";
import type { NodeProcess } from "./node.js";

/** The machine config as a plain object, for tests that derive variants of node.yaml. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigDoc = { machine: Record<string, any>; cluster: { name: string } } & Record<string, unknown>;

/**
 * One generated cluster per test file, exactly as `nodectl gen config`
 * writes it (secrets.yaml, node.yaml, nodectlconfig with an admin context),
 * plus client credentials for every role minted from the same CA.
 */
export class TestCluster {
  readonly secrets: ClusterSecrets;
  readonly nodeYaml: string;
  private readonly credsByRole = new Map<ClientRole, ChannelCredentials>();
  private readonly clients = new Set<MachineClient>();

  private constructor(
    readonly dir: string,
    readonly paths: { secretsPath: string; nodeConfigPath: string; nodectlConfigPath: string },
  ) {
    this.secrets = parseSecrets(readFileSync(paths.secretsPath, "utf8"), paths.secretsPath);
    this.nodeYaml = readFileSync(paths.nodeConfigPath, "utf8");
  }

  static async create(name = "it"): Promise<TestCluster> {
    const dir = mkdtempSync(join(tmpdir(), "cairn-it-cluster-"));
    const paths = await writeGeneratedConfig(dir, name);
    return new TestCluster(dir, paths);
  }

  /** Environment that points nodectl at the generated client config (admin). */
  get env(): Record<string, string> {
    return { NODECTL_CONFIG: this.paths.nodectlConfigPath };
  }

  /** mTLS credentials with a client cert for `role`, signed by this cluster's CA. */
  creds(role: ClientRole = "os:admin"): ChannelCredentials {
    let c = this.credsByRole.get(role);
    if (c === undefined) {
      const ctx = issueClientContext(this.secrets, { role, endpoints: ["127.0.0.1"] });
      c = mtlsChannelCredentials(contextCredentials(ctx));
      this.credsByRole.set(role, c);
    }
    return c;
  }

  /** PEMs of a fresh client certificate for `role` and the CA, for clients that are not grpc-js. */
  tlsFiles(role: ClientRole = "os:admin"): { caPem: string; certPem: string; keyPem: string } {
    const ctx = issueClientContext(this.secrets, { role, endpoints: ["127.0.0.1"] });
    return contextCredentials(ctx);
  }

  /** A typed client for `node`; closed by dispose(). */
  client(node: NodeProcess | string, creds: ChannelCredentials = this.creds()): MachineClient {
    const c = new MachineClient(typeof node === "string" ? node : node.address, creds, 10_000);
    this.clients.add(c);
    return c;
  }

  /** node.yaml with `mutate` applied: how tests make a changed config. */
  configWith(mutate: (doc: ConfigDoc) => void): string {
    const doc = parse(this.nodeYaml) as ConfigDoc;
    mutate(doc);
    return stringify(doc, { lineWidth: 0 });
  }

  /** node.yaml with machine.hostname set. */
  withHostname(hostname: string): string {
    return this.configWith((d) => {
      d.machine["hostname"] = hostname;
    });
  }

  /** Applies `yaml` (default node.yaml) to a node in maintenance mode, pinned to its printed fingerprint, and waits for mTLS. */
  async configure(node: NodeProcess, yaml = this.nodeYaml): Promise<void> {
    const fp = node.fingerprint;
    if (fp === undefined) throw new Error(`node ${node.address} printed no maintenance fingerprint\n${node.output()}`);
    const c = new MachineClient(node.address, maintenanceChannelCredentials(fp), 10_000);
    try {
      await c.applyConfiguration({ data: Buffer.from(yaml) });
    } finally {
      c.close();
    }
    await node.waitReady({ mode: "configured", creds: this.creds() });
  }

  dispose(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
