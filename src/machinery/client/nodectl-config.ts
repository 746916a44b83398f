import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { z } from "zod";
import { CairnError, type ErrorDetail } from "../../errors/index.js";
import { errnoCode, fsError, writeFileAtomic } from "../fs/index.js";
import { appendKey, formatFieldPath } from "../config/index.js";
// Not in the config barrel yet; the same YAML reader (line:col errors, no excerpts, alias limit) as machine configs.
import { parseYamlText } from "../config/yaml-text.js";

const PEM = /^-----BEGIN [A-Z ]+-----\r?\n[\s\S]+-----END [A-Z ]+-----\s*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A base64-encoded PEM block, the way talosconfig stores credentials inline. */
const base64Pem = (what: string) =>
  z.string().refine((s) => BASE64.test(s) && PEM.test(Buffer.from(s, "base64").toString("utf8")), {
    message: `must be the base64 of a PEM-encoded ${what}`,
  });

const address = z.string().regex(/^\S+$/, "must be a host or host:port without spaces");

/** One named cluster: where to connect and the mTLS credentials to present. */
export const NodectlContextSchema = z.strictObject({
  /** API endpoints (host or host:port) nodectl connects to. */
  endpoints: z.array(address).default([]),
  /** Default target nodes, proxied through the endpoints; empty means the endpoint itself. */
  nodes: z.array(address).default([]),
  /** base64 of the cluster CA certificate PEM, used to verify the node. */
  ca: base64Pem("CA certificate"),
  /** base64 of the client certificate PEM; its O entries are the roles. */
  crt: base64Pem("client certificate"),
  /** base64 of the client private key PEM. */
  key: base64Pem("private key"),
});

/**
 * The nodectl client config file (like talosconfig): named contexts and the
 * current one. Strict, so a typo'd key is an error rather than ignored.
 */
export const NodectlConfigSchema = z
  .strictObject({
    /** Name of the current context; must be a key of contexts. */
    context: z.string().min(1).optional(),
    contexts: z.record(z.string().min(1), NodectlContextSchema).default({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.context !== undefined && !Object.hasOwn(cfg.contexts, cfg.context)) {
      ctx.addIssue({ code: "custom", path: ["context"], message: `names no entry of contexts (${knownNames(cfg)})` });
    }
  });

/** A validated nodectl config with defaults filled in. */
export type NodectlConfig = z.infer<typeof NodectlConfigSchema>;
/** One validated context of a nodectl config. */
export type NodectlContext = z.infer<typeof NodectlContextSchema>;

/** The decoded PEM credentials of a context, ready for node:tls / grpc-js. */
export interface ContextCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Parses YAML text against a zod schema, throwing CairnError INVALID_ARGUMENT
 * whose message names `source` and the first bad field path, with every
 * problem in `details`. Messages never quote the input, since these files
 * hold private keys. Shared by the nodectl config and secrets.yaml readers.
 */
export function parseYamlAs<S extends z.ZodType>(schema: S, text: string, source: string, what: string): z.infer<S> {
  const parsed = parseYamlText(text);
  if (!parsed.ok) throw invalid(source, what, parsed.details);
  const result = schema.safeParse(parsed.value ?? undefined, {
    error: (iss) => (iss.code === "invalid_type" && iss.input === undefined ? "required field is missing" : undefined),
  });
  if (result.success) return result.data;
  const details: ErrorDetail[] = [];
  for (const iss of result.error.issues) {
    const path = formatFieldPath(iss.path);
    if (iss.code === "unrecognized_keys") {
      for (const key of iss.keys) details.push({ path: appendKey(path, key), message: "unknown field" });
    } else {
      details.push({ path, message: iss.message });
    }
  }
  throw invalid(source, what, details);
}

/** Parses a nodectl config file's text; `source` (usually the path) names the file in errors. */
export function parseNodectlConfig(text: string, source: string): NodectlConfig {
  return parseYamlAs(NodectlConfigSchema, text, source, "nodectl config");
}

/** Renders a nodectl config as YAML that parseNodectlConfig reads back unchanged. */
export function stringifyNodectlConfig(cfg: NodectlConfig): string {
  const ordered = {
    ...(cfg.context !== undefined ? { context: cfg.context } : {}),
    contexts: Object.fromEntries(
      Object.entries(cfg.contexts).map(([name, c]) => [
        name,
        { endpoints: c.endpoints, nodes: c.nodes, ca: c.ca, crt: c.crt, key: c.key },
      ]),
    ),
  };
  return stringify(ordered, { lineWidth: 0 });
}

/**
 * Adds or replaces context `name`, returning a new config (the input is not
 * modified). With `rename`, an existing context with different content is
 * kept and the new one is stored as name-1, name-2, ... (like `talosctl
 * config merge`); identical content is never duplicated. `setCurrent`
 * (default true) makes the stored context current; a config without a
 * current context always gets one.
 */
export function mergeContext(
  cfg: NodectlConfig | undefined,
  name: string,
  ctx: NodectlContext,
  opts: { setCurrent?: boolean; rename?: boolean } = {},
): NodectlConfig {
  if (name === "") throw new CairnError("INVALID_ARGUMENT", "context name must not be empty");
  const contexts = { ...(cfg?.contexts ?? {}) };
  let stored = name;
  if (opts.rename === true) {
    for (let i = 1; Object.hasOwn(contexts, stored) && !sameContext(contexts[stored]!, ctx); i++) stored = `${name}-${i}`;
  }
  contexts[stored] = { ...ctx, endpoints: [...ctx.endpoints], nodes: [...ctx.nodes] };
  const current = opts.setCurrent !== false || cfg?.context === undefined ? stored : cfg.context;
  return { context: current, contexts };
}

/** Returns a copy of `cfg` whose current context is `name`; unknown names are NOT_FOUND, listing the known ones. */
export function useContext(cfg: NodectlConfig, name: string): NodectlConfig {
  lookup(cfg, name);
  return { ...cfg, context: name };
}

/**
 * The context nodectl should use: `override` (the --context flag) if given,
 * else the config's current one. FAILED_PRECONDITION when neither is set,
 * NOT_FOUND (listing known names) when the name is not in the file.
 */
export function currentContext(cfg: NodectlConfig, override?: string): NodectlContext {
  const name = override ?? cfg.context;
  if (name === undefined) {
    throw new CairnError("FAILED_PRECONDITION", "no current context is set in the nodectl config", {
      hint: `choose one with --context or \`nodectl config context NAME\` (${knownNames(cfg)})`,
    });
  }
  return lookup(cfg, name);
}

/** Decodes a context's base64 credentials into PEM strings for the TLS layer. */
export function contextCredentials(ctx: NodectlContext): ContextCredentials {
  const pem = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
  return { caPem: pem(ctx.ca), certPem: pem(ctx.crt), keyPem: pem(ctx.key) };
}

/**
 * Reads and validates the nodectl config at `path`. A missing file is a
 * NOT_FOUND CairnError naming the path, with a hint on how to create one.
 */
export async function readNodectlConfig(path: string): Promise<NodectlConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") {
      throw new CairnError("NOT_FOUND", `nodectl config ${path} does not exist`, {
        cause: e,
        hint: "generate one with `nodectl gen config`, or point --nodectlconfig / NODECTL_CONFIG at an existing file",
      });
    }
    throw fsError(e, "reading nodectl config", path);
  }
  return parseNodectlConfig(text, path);
}

/**
 * Writes the nodectl config to `path` atomically with mode 0600 (it holds a
 * private key), creating parent directories as needed.
 */
export async function writeNodectlConfig(path: string, cfg: NodectlConfig): Promise<void> {
  await writeFileAtomic(path, stringifyNodectlConfig(cfg), { mode: 0o600 });
}


function sameContext(a: NodectlContext, b: NodectlContext): boolean {
  return (
    a.ca === b.ca &&
    a.crt === b.crt &&
    a.key === b.key &&
    a.endpoints.join("\n") === b.endpoints.join("\n") &&
    a.nodes.join("\n") === b.nodes.join("\n")
  );
}

function lookup(cfg: NodectlConfig, name: string): NodectlContext {
  const ctx = Object.hasOwn(cfg.contexts, name) ? cfg.contexts[name] : undefined;
  if (ctx === undefined) throw new CairnError("NOT_FOUND", `context "${name}" is not in the nodectl config (${knownNames(cfg)})`);
  return ctx;
}

function knownNames(cfg: { contexts: Record<string, unknown> }): string {
  const names = Object.keys(cfg.contexts);
  return names.length === 0 ? "it has no contexts" : `known: ${names.join(", ")}`;
}

function invalid(source: string, what: string, details: ErrorDetail[]): CairnError {
  const first = details[0];
  const where = first === undefined ? "" : first.path === "" ? `: ${first.message}` : `: ${first.path}: ${first.message}`;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  return new CairnError("INVALID_ARGUMENT", `${source}: invalid ${what}${where}${more}`, { details });
}
