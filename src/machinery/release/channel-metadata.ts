import { z } from "zod";
import { CairnError, type ErrorDetail } from "../../errors/index.js";
import { formatFieldPath } from "../config/field-path.js";
import { parseSemver } from "./semver.js";

/**
 * The signed metadata of one release channel (format 1): what a node reads
 * to learn which versions exist, where their bundles are and how to check
 * them before installing. Every object is strict: a node refuses fields it
 * does not know rather than half-understand a newer format.
 */
export const CHANNEL_FORMAT = 1;

/** Channel names are path segments and config values: keep them boring. */
export const CHANNEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const semver = z.string().refine((s) => {
  try {
    parseSemver(s);
    return true;
  } catch {
    return false;
  }
}, "must be a semantic version like 1.2.3");

const isoTime = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(s) && !Number.isNaN(Date.parse(s)), "must be an RFC 3339 UTC time like 2026-01-02T03:04:05.000Z");

export const ChannelReleaseSchema = z.strictObject({
  /** The OS version the bundle installs. */
  version: semver,
  /** Architecture of the bundle, as in the bundle manifest (amd64). */
  arch: z.string().regex(/^[a-z0-9_]+$/, "must be an architecture name like amd64"),
  /** Where the bundle is served (http or https). */
  url: z.string().refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an absolute http:// or https:// URL"),
  /** sha256 of the whole bundle file, lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits (sha256)"),
  /** Size of the bundle file in bytes. */
  size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /**
   * The lowest running version that may update straight to this one (an
   * update barrier): older nodes first take a release they may take.
   */
  minVersion: semver.optional(),
  /** When the release was added to the channel. */
  publishedAt: isoTime,
});

export const ChannelPayloadSchema = z
  .strictObject({
    format: z.literal(CHANNEL_FORMAT),
    /** The channel this document is for: a node refuses metadata of another channel. */
    channel: z.string().regex(CHANNEL_NAME, "must be a lowercase name like stable"),
    /** Increases by one on every publish; a node refuses a smaller one than it has seen. */
    metadataVersion: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** When this document was signed; never goes backwards either. */
    timestamp: isoTime,
    releases: z.array(ChannelReleaseSchema),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.releases.forEach((r, i) => {
      const id = `${r.version}/${r.arch}`;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else ctx.addIssue({ code: "custom", path: ["releases", i, "version"], message: `duplicate release ${r.version} for ${r.arch}, also at releases[${first}]` });
    });
  });

export const ChannelEnvelopeSchema = z.strictObject({
  format: z.literal(CHANNEL_FORMAT),
  /** The payload JSON, base64: the signatures cover exactly these bytes (no canonical JSON needed). */
  payload: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
  signatures: z
    .array(
      z.strictObject({
        /** First 16 hex digits of sha256(SPKI DER) of the signing key (informational: every trusted key is tried). */
        keyId: z.string().regex(/^[0-9a-f]{16}$/, "must be a 16-hex-digit key id"),
        /** ed25519 signature over the payload bytes, base64. */
        sig: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
      }),
    )
    .min(1, "must hold at least one signature"),
});

export type ChannelRelease = z.infer<typeof ChannelReleaseSchema>;
export type ChannelPayload = z.infer<typeof ChannelPayloadSchema>;
export type ChannelEnvelope = z.infer<typeof ChannelEnvelopeSchema>;

/** Parses JSON text against a schema; INVALID_ARGUMENT with one detail per problem, at its field path. */
export function parseStrict<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CairnError("INVALID_ARGUMENT", `${what}: not JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw, { error: (iss) => (iss.code === "invalid_type" && iss.input === undefined ? "required field is missing" : undefined) });
  if (r.success) return r.data;
  const details: ErrorDetail[] = [];
  for (const iss of r.error.issues) {
    const path = formatFieldPath(iss.path);
    if (iss.code === "unrecognized_keys") for (const k of iss.keys) details.push({ path: formatFieldPath([...iss.path, k]), message: "unknown field" });
    else details.push({ path, message: iss.message });
  }
  const lines = details.map((d) => `${d.path || "<root>"}: ${d.message}`).join("; ");
  throw new CairnError("INVALID_ARGUMENT", `${what}: ${lines}`, { details });
}
