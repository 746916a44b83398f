import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { build } from "esbuild";
import { packageAssetFiles, packageAssetsPlugin } from "./package-assets.js";

/**
 * The banner every bundle starts with: esbuild's ESM output leaves CJS
 * dependencies' `require`, `__filename` and `__dirname` as free variables,
 * so they are defined once here from import.meta.url.
 */
export const ESM_CJS_BANNER = [
  'import { createRequire as __cairnRequire } from "node:module";',
  'import { fileURLToPath as __cairnPath } from "node:url";',
  "const require = __cairnRequire(import.meta.url);",
  "const __filename = __cairnPath(import.meta.url);",
  'const __dirname = __filename.slice(0, __filename.lastIndexOf("/"));',
].join("\n");

/**
 * Packages left out of the bundle and shipped under
 * /usr/lib/cairn/node_modules instead: koffi locates its native `.node`
 * binary relative to its own index.js, which a bundle would break.
 */
export const EXTERNAL_PACKAGES = ["koffi"] as const;

/**
 * Bundles `entry` (TypeScript is fine) and everything it imports except
 * EXTERNAL_PACKAGES into one minified ESM file for Node 24. One file loads
 * 2.5x faster than node_modules under TCG (research), and minification
 * trims parse time further (docs/image.md).
 */
export async function bundleEntry(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    external: [...EXTERNAL_PACKAGES],
    banner: { js: ESM_CJS_BANNER },
    plugins: [packageAssetsPlugin()],
    // Whitespace and syntax minification cut the bundle from 3.3 to 2.3 MB and the real daemon's
    // first-log -> API-listening time under TCG from 9.6-13.8 s to 8.1-8.3 s (docs/image.md).
    // keepNames keeps function and class names for stack traces and `.name` checks.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
  });
}

/**
 * Files the image ships under /usr/lib/cairn/node_modules next to the
 * bundle: koffi (package.json, index.js, the linux_x64 binary) and the data
 * files of PACKAGE_ASSETS (package-assets.ts).
 */
export function nodeModulesFiles(): { hostPath: string; imageRel: string }[] {
  const req = createRequire(import.meta.url);
  const dir = dirname(req.resolve("koffi/package.json"));
  const koffi = ["package.json", "index.js", "build/koffi/linux_x64/koffi.node"].map((f) => ({
    hostPath: join(dir, f),
    imageRel: `koffi/${f}`,
  }));
  return [...koffi, ...packageAssetFiles()];
}
