import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { isCairnError, type CairnError } from "../../errors/index.js";
import { generateCa, inspectCert } from "../../pki/index.js";
import { MachineConfigSchema } from "../config/index.js";
import {
  generateClusterSecrets,
  issueClientContext,
  parseSecrets,
  renderNodeConfig,
  stringifySecrets,
  writeGeneratedConfig,
} from "./gen-config.js";
import { contextCredentials, currentContext, parseNodectlConfig } from "./nodectl-config.js";

function caught(fn: () => unknown): CairnError {
  try {
    fn();
  } catch (e) {
    if (isCairnError(e)) return e;
    throw e;
  }
  throw new Error("expected a CairnError");
}

const secrets = generateClusterSecrets("my-cluster");

describe("generateClusterSecrets / secrets.yaml", () => {
  it("mints a CA named after the cluster", () => {
    expect(secrets.cluster).toBe("my-cluster");
    expect(inspectCert(secrets.ca.certPem)).toMatchObject({ commonName: "my-cluster", isCa: true });
  });

  it("rejects a cluster name that is not a DNS label", () => {
    expect(caught(() => generateClusterSecrets("My Cluster")).code).toBe("INVALID_ARGUMENT");
  });

  it("round-trips through YAML with a warning header", () => {
    const text = stringifySecrets(secrets);
    expect(text.startsWith("# Cairn cluster secrets.")).toBe(true);
    expect(parseSecrets(text, "secrets.yaml")).toEqual(secrets);
  });

  it("names the file and field for a missing or mismatched key, never quoting it", () => {
    const noKey = stringifySecrets(secrets).replace(/ {2}keyPem: [\s\S]*$/, "");
    expect(caught(() => parseSecrets(noKey, "s.yaml")).message).toBe("s.yaml: invalid cluster secrets: ca.keyPem: required field is missing");
    const other = generateCa({ commonName: "other" });
    const swapped = stringifySecrets({ ...secrets, ca: { certPem: secrets.ca.certPem, keyPem: other.keyPem } });
    const e = caught(() => parseSecrets(swapped, "s.yaml"));
    expect(e.message).toBe("s.yaml: invalid cluster secrets: ca: CA private key does not belong to the CA certificate");
    expect(e.message).not.toContain("PRIVATE KEY");
  });
});

describe("renderNodeConfig", () => {
  it("renders a complete machine config that passes MachineConfigSchema", () => {
    const text = renderNodeConfig(secrets, { hostname: "node-1", certSANs: ["10.5.0.2", "node-1.lan"] });
    const cfg = MachineConfigSchema.parse(parse(text));
    expect(cfg.apiVersion).toBe("cairn.dev/v1alpha1");
    expect(cfg.kind).toBe("MachineConfig");
    expect(cfg.cluster.name).toBe("my-cluster");
    expect(cfg.machine.hostname).toBe("node-1");
    expect(cfg.machine.ca).toEqual({ cert: secrets.ca.certPem, key: secrets.ca.keyPem });
    expect(cfg.machine.network.interfaces).toEqual([{ name: "eth0", dhcp: true, addresses: [], routes: [] }]);
    expect(cfg.machine.api).toEqual({ certSANs: ["10.5.0.2", "node-1.lan"], port: 50000 });
    // defaults are spelled out, so the file documents what can be set
    expect(text).toContain("disk: /dev/vda");
    expect(text).toMatch(/^# Cairn machine config for cluster my-cluster\./);
  });

  it("carries update public keys", () => {
    const key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
    const cfg = MachineConfigSchema.parse(parse(renderNodeConfig(secrets, { updatePublicKeys: [key] })));
    expect(cfg.machine.update.publicKeys).toEqual([key]);
  });

  it("rejects a bad option with its field path", () => {
    const e = caught(() => renderNodeConfig(secrets, { hostname: "Not_A_Label" }));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/^cannot generate node config: machine\.hostname: must be a DNS label/);
  });
});

describe("issueClientContext", () => {
  it("packs the CA and a client cert carrying the role, verifiable against the CA", () => {
    const ctx = issueClientContext(secrets, { role: "os:operator", endpoints: ["10.5.0.2:50000"], nodes: ["10.5.0.3"] });
    expect(ctx).toMatchObject({ endpoints: ["10.5.0.2:50000"], nodes: ["10.5.0.3"] });
    const creds = contextCredentials(ctx);
    expect(creds.caPem).toBe(secrets.ca.certPem);
    const crt = new X509Certificate(creds.certPem);
    expect(crt.verify(new X509Certificate(secrets.ca.certPem).publicKey)).toBe(true);
    expect(crt.checkPrivateKey(createPrivateKey(creds.keyPem))).toBe(true);
    expect(inspectCert(creds.certPem)).toMatchObject({ commonName: "nodectl-operator", organizations: ["os:operator"] });
  });

  it("rejects unknown roles and empty endpoints", () => {
    expect(caught(() => issueClientContext(secrets, { role: "os:root" as never, endpoints: ["a"] })).message).toMatch(/unknown role/);
    expect(caught(() => issueClientContext(secrets, { role: "os:reader", endpoints: [] })).message).toMatch(/endpoint/);
  });
});

describe("writeGeneratedConfig", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes secrets.yaml, node.yaml and nodectlconfig, 0600 each, that fit together", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gen-config-"));
    dirs.push(dir);
    const out = join(dir, "out");
    const paths = await writeGeneratedConfig(out, "lab", { hostname: "n1" });
    expect((await readdir(out)).sort()).toEqual(["node.yaml", "nodectlconfig", "secrets.yaml"]);
    for (const p of Object.values(paths)) expect((await stat(p)).mode & 0o777).toBe(0o600);

    const sec = parseSecrets(await readFile(paths.secretsPath, "utf8"), paths.secretsPath);
    const node = MachineConfigSchema.parse(parse(await readFile(paths.nodeConfigPath, "utf8")));
    const nodectl = parseNodectlConfig(await readFile(paths.nodectlConfigPath, "utf8"), paths.nodectlConfigPath);
    expect(node.machine.ca.cert).toBe(sec.ca.certPem);
    expect(nodectl.context).toBe("lab");
    const ctx = currentContext(nodectl);
    expect(ctx.endpoints).toEqual(["127.0.0.1:50000"]);
    const creds = contextCredentials(ctx);
    expect(new X509Certificate(creds.certPem).verify(new X509Certificate(node.machine.ca.cert).publicKey)).toBe(true);
    expect(inspectCert(creds.certPem).organizations).toEqual(["os:admin"]);
  });

  it("refuses to overwrite without force, naming the file and leaving everything as it was", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gen-config-"));
    dirs.push(dir);
    const paths = await writeGeneratedConfig(dir, "lab");
    const before = await readFile(paths.secretsPath, "utf8");
    await expect(writeGeneratedConfig(dir, "lab")).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
      message: `${paths.secretsPath} already exists`,
    });
    expect(await readFile(paths.secretsPath, "utf8")).toBe(before);

    await writeGeneratedConfig(dir, "lab", { force: true });
    expect(await readFile(paths.secretsPath, "utf8")).not.toBe(before);
    expect((await readdir(dir)).sort()).toEqual(["node.yaml", "nodectlconfig", "secrets.yaml"]);
  });
});
