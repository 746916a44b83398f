import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "./exec.js";
import type { KernelInput } from "./kernel-input.js";
import { loadOrder, modulePaths } from "./module-deps.js";

/**
 * Copies `wanted` and everything they depend on from the unpacked kernel
 * into `destRoot`/lib/modules/<kver>, and writes `listFile` (a path inside
 * destRoot): the absolute in-image paths of those modules, one per line, in
 * load order (dependencies first). With `depmod` the reduced tree also gets
 * its own modules.dep so that tools in the image see a consistent set.
 * Returns the in-image paths.
 */
export function stageModules(
  kernel: KernelInput,
  wanted: readonly string[],
  destRoot: string,
  listFile: string,
  opts: { depmod: boolean },
): string[] {
  const rel = modulePaths(kernel.graph, loadOrder(kernel.graph, wanted));
  const srcMods = join(kernel.root, "lib", "modules", kernel.kver);
  const dstMods = join(destRoot, "lib", "modules", kernel.kver);
  for (const p of rel) {
    mkdirSync(dirname(join(dstMods, p)), { recursive: true });
    copyFileSync(join(srcMods, p), join(dstMods, p));
  }
  if (opts.depmod) {
    for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) {
      copyFileSync(join(srcMods, f), join(dstMods, f));
    }
    run("depmod", ["-b", destRoot, kernel.kver]);
  }
  const inImage = rel.map((p) => `/lib/modules/${kernel.kver}/${p}`);
  mkdirSync(dirname(join(destRoot, listFile)), { recursive: true });
  writeFileSync(
    join(destRoot, listFile),
    `# modules in load order (dependencies first), from modules.dep at build time\n${inImage.join("\n")}\n`,
  );
  return inImage;
}
