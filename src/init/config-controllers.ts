import { appendFile, mkdir, writeFile, access } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { MachineConfig } from "../machinery/config/index.js";
import type { Platform } from "../platform/index.js";
import { CairnError } from "../errors/index.js";

/**
 * Applies the live parts of a machine config to the node: hostname,
 * sysctls, network, files. Each controller compares against the previous
 * config and acts only on what changed, so applying the same config twice
 * is a no-op (and `append` files are appended once per change, not per apply).
 */
export async function applyLiveConfig(platform: Platform, next: MachineConfig, prev: MachineConfig | undefined, log: Logger): Promise<string[]> {
  const done: string[] = [];
  const m = next.machine;
  const changed = (pick: (c: MachineConfig) => unknown) => prev === undefined || JSON.stringify(pick(prev)) !== JSON.stringify(pick(next));

  if (m.hostname !== undefined && changed((c) => c.machine.hostname)) {
    await platform.setHostname(m.hostname);
    done.push("hostname");
  }
  if (changed((c) => c.machine.sysctls)) {
    await platform.applySysctls(m.sysctls);
    done.push("sysctls");
  }
  if (changed((c) => c.machine.network)) {
    await platform.configureNetwork(m.network, log);
    done.push("network");
  }
  const prevFiles = new Map((prev?.machine.files ?? []).map((f) => [f.path, JSON.stringify(f)]));
  for (const f of m.files) {
    if (prevFiles.get(f.path) === JSON.stringify(f)) continue;
    const target = platform.hostPath(f.path);
    try {
      await mkdir(dirname(target), { recursive: true });
      if (f.op === "append") await appendFile(target, f.content, { mode: f.mode });
      else if (f.op === "overwrite" || !(await exists(target))) await writeFile(target, f.content, { mode: f.mode });
    } catch (e) {
      // The kernel's own verdict (EROFS on the read-only root, EACCES, ENOSPC) goes back to the caller.
      const errno = e as NodeJS.ErrnoException;
      throw new CairnError("FAILED_PRECONDITION", `write ${f.path}: ${errno.code ?? "error"}: ${errno.message}`, {
        cause: e,
        details: [{ path: `machine.files[${f.path}]`, message: `${errno.code ?? "error"} from the kernel` }],
      });
    }
    done.push(`file:${f.path}`);
  }
  log.info({ controllers: done }, "live config applied");
  return done;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
