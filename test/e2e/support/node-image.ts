import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildTestImage, type BuiltImage } from "./image-build.js";

/** The version every e2e node image carries; tests assert it comes back from Version. */
export const E2E_VERSION = "0.1.0";
const SUBDIR = "e2e";

/** Newest mtime (ms) of any file below `dir`; 0 if it does not exist. */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let memo: { image: BuiltImage; built: boolean; seconds: number } | undefined;

/**
 * The machined image in dist/e2e, built at most once per test process. An
 * existing image is reused only when it is newer than every source the
 * imager bundles (src/, cmd/) and the compiled imager (build/), so a test
 * never boots stale code; CAIRN_E2E_REBUILD=1 forces a build. A rebuild
 * costs ~6 s with a warm .cache/, so reuse is a convenience, not a need.
 */
export function e2eImage(): { image: BuiltImage; built: boolean; seconds: number } {
  if (memo) return memo;
  const started = performance.now();
  const summary = resolve("dist", SUBDIR, `cairn-${E2E_VERSION}-amd64.json`);
  const inputs = Math.max(newestMtime(resolve("src")), newestMtime(resolve("cmd")), newestMtime(resolve("build")));
  const fresh = existsSync(summary) && statSync(summary).mtimeMs > inputs && process.env["CAIRN_E2E_REBUILD"] !== "1";
  const image = fresh
    ? { ...(JSON.parse(readFileSync(summary, "utf8")) as BuiltImage), version: E2E_VERSION, outDir: resolve("dist", SUBDIR) }
    : buildTestImage({ version: E2E_VERSION, entry: "cmd/machined.ts", subdir: SUBDIR });
  if (!existsSync(image.raw)) throw new Error(`e2e image ${image.raw} is missing although its summary exists; rerun with CAIRN_E2E_REBUILD=1`);
  memo = { image, built: !fresh, seconds: (performance.now() - started) / 1000 };
  return memo;
}
