import { readFile } from "node:fs/promises";
import { CairnError } from "../../errors/index.js";
import { nodeError } from "./errno.js";

/** /usr/lib/cairn/build.json as the image builder writes it. */
export interface BuildInfo {
  readonly version: string;
  readonly buildId: string;
  readonly arch: string;
}

/** Default location in the read-only root. */
export const BUILD_INFO_PATH = "/usr/lib/cairn/build.json";

/** Parses and checks build.json text; every field must be a non-empty string. */
export function parseBuildInfo(text: string, path = BUILD_INFO_PATH): BuildInfo {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CairnError("FAILED_PRECONDITION", `read ${path}: not JSON`, { cause: e });
  }
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const missing = (["version", "buildId", "arch"] as const).filter((k) => typeof o[k] !== "string" || o[k] === "");
  if (missing.length) {
    throw new CairnError("FAILED_PRECONDITION", `read ${path}: missing or empty ${missing.join(", ")}`, {
      details: missing.map((k) => ({ path: k, message: "must be a non-empty string" })),
      hint: "the image builder writes {version, buildId, arch} into the root file system",
    });
  }
  return { version: o["version"] as string, buildId: o["buildId"] as string, arch: o["arch"] as string };
}

/** Reads build.json; a missing file is FAILED_PRECONDITION with a hint, since the image is broken. */
export async function readBuildInfo(path = BUILD_INFO_PATH): Promise<BuildInfo> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const err = nodeError(`read ${path}`, e);
    throw new CairnError("FAILED_PRECONDITION", err.message, {
      cause: e,
      hint: "the image builder must write /usr/lib/cairn/build.json: {version, buildId, arch}",
    });
  }
  return parseBuildInfo(text, path);
}
