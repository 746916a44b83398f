import { CairnError } from "../../errors/index.js";

/** The parts an upgrade bundle carries, in this order. */
export const BUNDLE_PART_NAMES = ["kernel", "initramfs", "rootfs"] as const;

/** Name of one bundle part. */
export type BundlePartName = (typeof BUNDLE_PART_NAMES)[number];

/** One part as the signed manifest pins it. */
export interface BundlePart {
  readonly name: BundlePartName;
  readonly size: number;
  readonly sha256: string;
}

/** The signed manifest of a bundle (format 1); see bundle-format.ts. */
export interface BundleManifest {
  readonly format: 1;
  readonly version: string;
  readonly arch: string;
  readonly buildId: string;
  /** Id of the key that signed it (informational: verification tries every trusted key). */
  readonly keyId: string;
  readonly parts: readonly BundlePart[];
}

function fail(message: string): never {
  throw new CairnError("INVALID_ARGUMENT", `bundle manifest: ${message}`);
}

const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;

/**
 * Parses and strictly checks manifest bytes: every field typed, parts are
 * exactly kernel, initramfs, rootfs once each in that order, sizes are safe
 * integers and digests are lowercase sha256 hex. Unknown fields are refused
 * so that a newer format cannot be half-understood by an older node.
 */
export function parseManifest(bytes: Uint8Array): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    fail("not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("not an object");
  const o = raw as Record<string, unknown>;
  const known = ["format", "version", "arch", "buildId", "keyId", "parts"];
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length) fail(`unknown fields ${extra.join(", ")}`);
  if (o["format"] !== 1) fail(`unsupported format ${String(o["format"])}`);
  for (const k of ["version", "arch", "buildId", "keyId"]) if (!isStr(o[k])) fail(`${k} must be a non-empty string`);
  const parts = o["parts"];
  if (!Array.isArray(parts) || parts.length !== BUNDLE_PART_NAMES.length) fail(`parts must be ${BUNDLE_PART_NAMES.join(", ")}`);
  const checked = parts.map((p: unknown, i): BundlePart => {
    const q = (typeof p === "object" && p !== null ? p : {}) as Record<string, unknown>;
    if (Object.keys(q).some((k) => !["name", "size", "sha256"].includes(k))) fail(`parts[${i}] has unknown fields`);
    if (q["name"] !== BUNDLE_PART_NAMES[i]) fail(`parts[${i}].name must be ${BUNDLE_PART_NAMES[i]}`);
    if (!Number.isSafeInteger(q["size"]) || (q["size"] as number) < 0) fail(`parts[${i}].size must be a non-negative integer`);
    if (typeof q["sha256"] !== "string" || !/^[0-9a-f]{64}$/.test(q["sha256"])) fail(`parts[${i}].sha256 must be sha256 hex`);
    return { name: BUNDLE_PART_NAMES[i]!, size: q["size"] as number, sha256: q["sha256"] };
  });
  return {
    format: 1,
    version: o["version"] as string,
    arch: o["arch"] as string,
    buildId: o["buildId"] as string,
    keyId: o["keyId"] as string,
    parts: checked,
  };
}
