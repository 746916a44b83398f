import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, sha256File } from "./exec.js";
import { parseModulesDep, type ModuleGraph } from "./module-deps.js";
import { KERNEL } from "./pins.js";

/** The pinned kernel, unpacked in the cache with a complete modules.dep. */
export interface KernelInput {
  readonly kver: string;
  /** Path of the bzImage on the host. */
  readonly vmlinuz: string;
  /** Root of the unpacked .deb: lib/modules/<kver>/... lives under it. */
  readonly root: string;
  readonly graph: ModuleGraph;
}

/**
 * Fetches Debian's cloud kernel with `apt-get download` (pinned version,
 * checked sha256), unpacks it with `dpkg-deb -x` and runs `depmod -b`
 * (the .deb ships no modules.dep). Cached under <cache>/kernel/<pin>, so
 * only the first build pays for it.
 */
export async function ensureKernel(cacheDir: string): Promise<KernelInput> {
  const dir = join(cacheDir, "kernel", `${KERNEL.package}_${KERNEL.version}`);
  const root = join(dir, "root");
  const done = join(dir, ".done");
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const spec = `${KERNEL.package}=${KERNEL.version}`;
    try {
      run("apt-get", ["download", "-q", spec], { cwd: dir });
    } catch {
      // A fresh machine may have no package lists yet; retry once after updating them.
      run("apt-get", ["update", "-qq"]);
      try {
        run("apt-get", ["download", "-q", spec], { cwd: dir });
      } catch (err) {
        throw new Error(
          `cannot download ${spec}: Debian drops superseded kernels at point releases; ` +
            `pick the current one with 'apt-cache policy linux-image-*-cloud-amd64' and update KERNEL in src/image/pins.ts`,
          { cause: err },
        );
      }
    }
    const deb = readdirSync(dir).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${spec} produced no .deb`);
    const digest = await sha256File(join(dir, deb));
    if (digest !== KERNEL.sha256) {
      throw new Error(`${deb}: sha256 ${digest} does not match the pin ${KERNEL.sha256} (update src/image/pins.ts)`);
    }
    run("dpkg-deb", ["-x", join(dir, deb), root]);
    rmSync(join(dir, deb));
    run("depmod", ["-b", root, KERNEL.kver]);
    writeFileSync(done, `${spec}\n`);
  }
  const modDir = join(root, "lib", "modules", KERNEL.kver);
  return {
    kver: KERNEL.kver,
    vmlinuz: join(root, "boot", `vmlinuz-${KERNEL.kver}`),
    root,
    graph: parseModulesDep(readFileSync(join(modDir, "modules.dep"), "utf8")),
  };
}
