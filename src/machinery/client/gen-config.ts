import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "yaml";
import { z } from "zod";
import { CairnError, isCairnError } from "../../errors/index.js";
import { checkCaKeyPair, generateCa, issueClientCert, type KeyPairPem } from "../../pki/index.js";
import {
  API_VERSION,
  ClusterSchema,
  KIND,
  stringifyMachineConfig,
  validateMachineConfig,
  type MachineConfigInput,
} from "../config/index.js";
import {
  NodectlContextSchema,
  mergeContext,
  parseYamlAs,
  stringifyNodectlConfig,
  type NodectlContext,
} from "./nodectl-config.js";
import { writeFileAtomic } from "../fs/index.js";

/** The roles a generated client cert can carry (its O entry); the server authorizes on them. */
export type ClientRole = "os:admin" | "os:operator" | "os:reader";
const CLIENT_ROLES: readonly ClientRole[] = ["os:admin", "os:operator", "os:reader"];

/**
 * Everything that makes a cluster: its name and the OS CA. Kept apart from
 * node configs (secrets.yaml) so more node configs and client certs can be
 * generated later without minting a new CA.
 */
export interface ClusterSecrets {
  cluster: string;
  ca: KeyPairPem;
}

const PEM = /-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/;

/** secrets.yaml: the same shape as ClusterSecrets. */
export const ClusterSecretsSchema = z.strictObject({
  cluster: ClusterSchema.shape.name,
  ca: z.strictObject({
    certPem: z.string().regex(PEM, "must be a PEM-encoded certificate"),
    keyPem: z.string().regex(PEM, "must be a PEM-encoded private key"),
  }),
});

/** Options for the generated node config. */
export interface NodeConfigOptions {
  hostname?: string;
  /** Extra DNS names / IPs for the node's serving cert (machine.api.certSANs). */
  certSANs?: string[];
  /** Ed25519 release public keys (PEM) trusted for upgrades (machine.update.publicKeys). */
  updatePublicKeys?: string[];
}

/** Options for a client context. */
export interface ClientContextOptions {
  role: ClientRole;
  /** host or host:port of the node API; at least one. */
  endpoints: string[];
  nodes?: string[];
  /** Subject CN of the client cert; default "nodectl-<role name>", e.g. nodectl-admin. */
  commonName?: string;
}

/** Options for writeGeneratedConfig. */
export interface GenerateConfigOptions extends NodeConfigOptions {
  /** Endpoints of the client context; default ["127.0.0.1:50000"]. */
  endpoints?: string[];
  nodes?: string[];
  /** Role of the generated client cert; default os:admin. */
  role?: ClientRole;
  /** Replace existing output files instead of refusing. */
  force?: boolean;
}

/** Where writeGeneratedConfig put its three files. */
export interface GeneratedConfigPaths {
  secretsPath: string;
  nodeConfigPath: string;
  nodectlConfigPath: string;
}

/**
 * Mints the secrets of a new cluster: a ten-year RSA CA named after it. The
 * name must be a DNS label, the same rule as cluster.name in MachineConfig.
 */
export function generateClusterSecrets(clusterName: string): ClusterSecrets {
  const name = ClusterSchema.shape.name.safeParse(clusterName);
  if (!name.success) {
    throw new CairnError("INVALID_ARGUMENT", `cluster name ${JSON.stringify(clusterName)} must be a DNS label: lowercase letters, digits and '-', at most 63`);
  }
  return { cluster: name.data, ca: generateCa({ commonName: name.data }) };
}

/** Renders secrets.yaml. The header warns that the file holds the CA private key. */
export function stringifySecrets(secrets: ClusterSecrets): string {
  const doc = new Document({ cluster: secrets.cluster, ca: { certPem: secrets.ca.certPem, keyPem: secrets.ca.keyPem } });
  doc.commentBefore = " Cairn cluster secrets. Holds the OS CA private key: keep it private and out of version control.";
  return doc.toString({ lineWidth: 0 });
}

/**
 * Parses secrets.yaml and checks the CA is usable (a CA cert with its own
 * key), so a corrupted file fails here with the file name rather than at
 * the first signing. Errors are INVALID_ARGUMENT and never quote key material.
 */
export function parseSecrets(text: string, source: string): ClusterSecrets {
  const secrets = parseYamlAs(ClusterSecretsSchema, text, source, "cluster secrets");
  try {
    checkCaKeyPair(secrets.ca);
  } catch (e) {
    if (!isCairnError(e)) throw e;
    throw new CairnError("INVALID_ARGUMENT", `${source}: invalid cluster secrets: ca: ${e.message}`, {
      details: [{ path: "ca", message: e.message }],
    });
  }
  return secrets;
}

/**
 * Renders a complete MachineConfig YAML for a node of the cluster: the CA
 * cert (to verify clients) and key (to mint its own serving cert at boot),
 * DHCP on eth0, and every default spelled out so the file documents what
 * can be set. The result is validated against MachineConfigSchema; bad
 * options are INVALID_ARGUMENT with the offending field path.
 */
export function renderNodeConfig(secrets: ClusterSecrets, opts: NodeConfigOptions = {}): string {
  const input: MachineConfigInput = {
    apiVersion: API_VERSION,
    kind: KIND,
    machine: {
      ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
      network: { interfaces: [{ name: "eth0", dhcp: true }] },
      api: { certSANs: opts.certSANs ?? [] },
      update: { publicKeys: opts.updatePublicKeys ?? [] },
      ca: { cert: secrets.ca.certPem, key: secrets.ca.keyPem },
    },
    cluster: { name: secrets.cluster },
  };
  let config;
  try {
    config = validateMachineConfig(input, "generated node config");
  } catch (e) {
    if (!isCairnError(e)) throw e;
    const first = e.details[0];
    const where = first ? `: ${first.path}: ${first.message}` : "";
    throw new CairnError("INVALID_ARGUMENT", `cannot generate node config${where}`, { details: e.details, cause: e });
  }
  return `# Cairn machine config for cluster ${secrets.cluster}.\n# Holds the OS CA private key (machine.ca.key): keep it private.\n${stringifyMachineConfig(config)}`;
}

/**
 * Issues a client cert for `role` from the cluster CA and packs it, with
 * the CA cert, into a nodectl context (base64 PEM, like talosconfig).
 */
export function issueClientContext(secrets: ClusterSecrets, opts: ClientContextOptions): NodectlContext {
  if (!CLIENT_ROLES.includes(opts.role)) {
    throw new CairnError("INVALID_ARGUMENT", `unknown role ${JSON.stringify(opts.role)} (known: ${CLIENT_ROLES.join(", ")})`);
  }
  if (opts.endpoints.length === 0) {
    throw new CairnError("INVALID_ARGUMENT", "a client context needs at least one endpoint");
  }
  const commonName = opts.commonName ?? `nodectl-${opts.role.slice("os:".length)}`;
  const client = issueClientCert(secrets.ca, { commonName, roles: [opts.role] });
  const b64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64");
  const ctx = NodectlContextSchema.safeParse({
    endpoints: opts.endpoints,
    nodes: opts.nodes ?? [],
    ca: b64(secrets.ca.certPem),
    crt: b64(client.certPem),
    key: b64(client.keyPem),
  });
  if (!ctx.success) {
    const iss = ctx.error.issues[0];
    throw new CairnError("INVALID_ARGUMENT", `invalid client context: ${iss?.path.join(".")}: ${iss?.message}`);
  }
  return ctx.data;
}

/**
 * `nodectl gen config`: writes DIR/secrets.yaml, DIR/node.yaml and
 * DIR/nodectlconfig (all 0600, atomically) for a new cluster. Refuses with
 * ALREADY_EXISTS, naming the file, if any of them exists and `force` is not
 * set; that check happens before anything is written, so a refusal leaves
 * the directory untouched.
 */
export async function writeGeneratedConfig(outDir: string, clusterName: string, opts: GenerateConfigOptions = {}): Promise<GeneratedConfigPaths> {
  const paths: GeneratedConfigPaths = {
    secretsPath: join(outDir, "secrets.yaml"),
    nodeConfigPath: join(outDir, "node.yaml"),
    nodectlConfigPath: join(outDir, "nodectlconfig"),
  };
  const force = opts.force === true;
  if (!force) {
    for (const path of Object.values(paths)) {
      if (await exists(path)) {
        throw new CairnError("ALREADY_EXISTS", `${path} already exists`, { hint: "pass --force to overwrite it" });
      }
    }
  }
  const secrets = generateClusterSecrets(clusterName);
  const nodeYaml = renderNodeConfig(secrets, opts);
  const ctx = issueClientContext(secrets, {
    role: opts.role ?? "os:admin",
    endpoints: opts.endpoints ?? ["127.0.0.1:50000"],
    ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}),
  });
  const nodectl = stringifyNodectlConfig(mergeContext(undefined, secrets.cluster, ctx));
  const write = { mode: 0o600, overwrite: force };
  await writeFileAtomic(paths.secretsPath, stringifySecrets(secrets), write);
  await writeFileAtomic(paths.nodeConfigPath, nodeYaml, write);
  await writeFileAtomic(paths.nodectlConfigPath, nodectl, write);
  return paths;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Error && "code" in e && e.code === "ENOENT") return false;
    throw CairnError.from(e);
  }
}
