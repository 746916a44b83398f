import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BuildResult } from "../../../src/image/build-image.js";

/** A built test image: paths from the imager's summary JSON. */
export interface BuiltImage extends Omit<BuildResult, "timings"> {
  readonly version: string;
  readonly outDir: string;
  readonly totalSeconds: number;
}

/**
 * Builds an image with the compiled imager (build/cmd/imager.js, so run
 * `npm run build` first) into dist/<subdir> (not dist/ itself, where
 * other tests look for the newest real image). The version-independent
 * inputs come from .cache/, so a rebuild takes seconds.
 */
export function buildTestImage(opts: { version: string; entry: string; subdir: string }): BuiltImage {
  const outDir = resolve("dist", opts.subdir);
  execFileSync(
    process.execPath,
    ["build/cmd/imager.js", "--version", opts.version, "--entry", opts.entry, "--out", outDir],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const summary = JSON.parse(readFileSync(join(outDir, `cairn-${opts.version}-amd64.json`), "utf8")) as BuiltImage;
  return { ...summary, version: opts.version, outDir };
}

/** The hello-init test image: PID 1 prints CAIRN-HELLO and powers off. */
export function buildHelloImage(version = "0.0.1-hello"): BuiltImage {
  return buildTestImage({ version, entry: "src/image/testdata/hello-init.ts", subdir: "hello" });
}
