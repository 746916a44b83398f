import { readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import type { Plugin } from "esbuild";

/** Where packages' run-time data files live in the image. */
export const IMAGE_NODE_MODULES = "/usr/lib/cairn/node_modules";

/**
 * Packages that read data files relative to their own `__dirname` at run
 * time (proto files loaded with proto-loader), and the directories they
 * read. Bundling moves their code into one file, so those `__dirname`s are
 * rewritten to the package's path under IMAGE_NODE_MODULES and the
 * directories are shipped there, keeping the packages' relative layout.
 * Found by booting the real daemon: @grpc/reflection loads
 * reflection.proto when the service is added; grpc-js does the same for
 * channelz and ORCA.
 */
export const PACKAGE_ASSETS = [
  { pkg: "@grpc/reflection", dirs: ["build/proto"] },
  { pkg: "@grpc/grpc-js", dirs: ["proto"] },
] as const;

function packageRoot(pkg: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
}

/** esbuild plugin: in PACKAGE_ASSETS packages, `__dirname` becomes the file's directory in the image. */
export function packageAssetsPlugin(): Plugin {
  const roots = PACKAGE_ASSETS.map((a) => ({ pkg: a.pkg, root: packageRoot(a.pkg) + sep }));
  return {
    name: "cairn-package-assets",
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]@grpc[\\/].*\.js$/ }, (args) => {
        const owner = roots.find((r) => args.path.startsWith(r.root));
        if (!owner) return undefined;
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("__dirname")) return undefined;
        const relDir = relative(owner.root, dirname(args.path)).split(sep).join("/");
        const imageDir = [IMAGE_NODE_MODULES, owner.pkg, relDir].filter(Boolean).join("/");
        return { contents: source.replace(/\b__dirname\b/g, JSON.stringify(imageDir)), loader: "js" };
      });
    },
  };
}

/** Every file of the PACKAGE_ASSETS directories, as host path -> path under node_modules. */
export function packageAssetFiles(): { hostPath: string; imageRel: string }[] {
  const out: { hostPath: string; imageRel: string }[] = [];
  for (const a of PACKAGE_ASSETS) {
    const root = packageRoot(a.pkg);
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push({ hostPath: p, imageRel: `${a.pkg}/${relative(root, p).split(sep).join("/")}` });
      }
    };
    for (const d of a.dirs) walk(join(root, d));
  }
  return out;
}
