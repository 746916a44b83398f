import { realpath, stat } from "node:fs/promises";
import { dirname, posix } from "node:path";
import { CairnError } from "../errors/index.js";
import type { Role } from "../machinery/roles/index.js";
import type { Platform } from "../platform/index.js";

const EVERYONE: readonly Role[] = ["os:reader", "os:operator", "os:admin"];
const OPERATORS: readonly Role[] = ["os:operator", "os:admin"];

/**
 * Where Read and Copy may read file contents, by role. Readers get the
 * logs only; operators and admins also the kernel's views and the image's
 * configuration (the root file system is the read-only image: no secrets).
 *
 * | root      | reader | operator, admin | why                                   |
 * |-----------|--------|-----------------|---------------------------------------|
 * | /var/log  | yes    | yes             | service logs                          |
 * | /var      |        | yes             | EPHEMERAL: spool, workload data       |
 * | /proc     |        | yes             | processes, kernel state (minus DENIED)|
 * | /sys      |        | yes             | devices, kernel tunables              |
 * | /run      |        | yes             | runtime state                         |
 * | /etc      |        | yes             | the image's configuration             |
 */
export const CONTENT_ROOTS: readonly { readonly root: string; readonly roles: readonly Role[] }[] = [
  { root: "/var/log", roles: EVERYONE },
  { root: "/var", roles: OPERATORS },
  { root: "/proc", roles: OPERATORS },
  { root: "/sys", roles: OPERATORS },
  { root: "/run", roles: OPERATORS },
  { root: "/etc", roles: OPERATORS },
];

/**
 * Never readable or listable by anyone, checked on the requested path and
 * on the resolved real path: STATE (the CA key, the node's keys, the config
 * holding them), raw devices, kernel memory and firmware, files whose read
 * blocks forever (/proc/kmsg), and kernel symbol addresses.
 */
export const DENIED_ROOTS: readonly string[] = [
  "/system/state",
  "/dev",
  "/proc/kcore",
  "/proc/kmsg",
  "/proc/kallsyms",
  "/proc/sysrq-trigger",
  "/sys/firmware",
  "/sys/kernel/debug",
  "/sys/kernel/tracing",
];

/**
 * Per-process /proc entries that lead out of the allow-list or expose
 * memory and secrets: the root and cwd links are a door to the whole file
 * system (/proc/1/root/system/state/...), fd and map_files re-open any file
 * a process holds, environ and mem hold its secrets.
 */
const DENIED_PROC_ENTRIES = new Set(["root", "cwd", "exe", "fd", "map_files", "environ", "mem", "pagemap", "syscall", "stack"]);

const under = (p: string, root: string) => p === root || p.startsWith(root === "/" ? "/" : `${root}/`);

/** The reason a node path is denied to everyone, or undefined. */
export function deniedReason(path: string): string | undefined {
  const root = DENIED_ROOTS.find((d) => under(path, d));
  if (root) return `${root} is never readable over the API`;
  // /proc/<pid|self|thread-self>/X and /proc/<pid>/task/<tid>/X
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "proc" && parts.length >= 3 && /^(\d+|self|thread-self)$/.test(parts[1] ?? "")) {
    const entry = parts[2] === "task" ? parts[4] : parts[2];
    if (entry !== undefined && DENIED_PROC_ENTRIES.has(entry)) return `/proc/*/${entry} is never readable over the API`;
  }
  return undefined;
}

/** Absolute, normalised, no trailing slash; relative paths are an INVALID_ARGUMENT. */
export function normaliseNodePath(path: string): string {
  if (!path.startsWith("/")) throw new CairnError("INVALID_ARGUMENT", `path must be absolute: "${path}"`, { details: [{ path: "path", message: "not absolute" }] });
  return posix.normalize(path).replace(/(.)\/$/, "$1");
}

/** What a call may do: list names (anywhere not denied) or read contents (allow-list by role). */
export type FileAccess = "list" | "read";

/** A path the caller may use: as the API names it and as this process opens it. */
export interface ResolvedPath {
  readonly path: string;
  readonly host: string;
}

/**
 * The one place the file RPCs (List, Read, Copy) decide what may be read.
 * A request passes when its node path is within a root the caller's roles
 * allow and is not denied, AND its resolved real path (symlinks followed)
 * is too, mapped back to a node path. On metal, STATE is also recognised by
 * device number, so a bind mount of it elsewhere stays closed.
 */
export class FilePolicy {
  private stateDev: Promise<number | undefined> | undefined;

  constructor(private readonly platform: Pick<Platform, "hostPath" | "paths">) {}

  /** Content roots the roles may read. */
  static contentRoots(roles: readonly string[]): string[] {
    return CONTENT_ROOTS.filter((r) => r.roles.some((role) => roles.includes(role))).map((r) => r.root);
  }

  async resolve(nodePath: string, roles: readonly string[], access: FileAccess): Promise<ResolvedPath> {
    const path = normaliseNodePath(nodePath);
    const roots = access === "list" ? ["/"] : FilePolicy.contentRoots(roles);
    const deny = (why: string) => new CairnError("PERMISSION_DENIED", `${path}: ${why}`);
    const denied = deniedReason(path);
    if (denied) throw deny(denied);
    if (!roots.some((r) => under(path, r))) throw deny(`not in the file allow-list for this client's role (readable: ${roots.join(", ") || "nothing"})`);
    const host = this.platform.hostPath(path);
    let real: string;
    try {
      real = await realpath(host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new CairnError("NOT_FOUND", `${path}: no such file or directory`);
      throw e;
    }
    const realNode = await this.toNodePath(real, access === "list" ? ["/", ...CONTENT_ROOTS.map((r) => r.root), "/var"] : roots);
    if (realNode === undefined) throw deny(`resolves to ${real}, outside the file allow-list`);
    const realDenied = deniedReason(realNode);
    if (realDenied) throw deny(`resolves to ${realNode}: ${realDenied}`);
    if (access === "read" && !roots.some((r) => under(realNode, r))) throw deny(`resolves to ${realNode}, outside the file allow-list for this client's role`);
    const dev = await this.stateDevice();
    if (dev !== undefined && (await stat(real)).dev === dev) throw deny("is on the STATE partition, which is never readable over the API");
    return { path, host: real };
  }

  /** The node path of a real host path: the longest candidate root whose real path contains it. */
  private async toNodePath(real: string, candidates: readonly string[]): Promise<string | undefined> {
    let best: { root: string; realRoot: string } | undefined;
    for (const root of candidates) {
      const realRoot = await realpath(this.platform.hostPath(root)).catch(() => undefined);
      if (realRoot === undefined || !under(real, realRoot)) continue;
      if (!best || realRoot.length > best.realRoot.length) best = { root, realRoot };
    }
    if (!best) return undefined;
    const rest = real.slice(best.realRoot.length).replace(/^\//, "");
    return rest ? posix.join(best.root, rest) : best.root;
  }

  /** STATE's device number when STATE is a mount of its own (metal); undefined in process mode. */
  private stateDevice(): Promise<number | undefined> {
    this.stateDev ??= (async () => {
      const state = this.platform.paths.state;
      const [own, parent] = await Promise.all([stat(state).catch(() => undefined), stat(dirname(state)).catch(() => undefined)]);
      return own && parent && own.dev !== parent.dev ? own.dev : undefined;
    })();
    return this.stateDev;
  }
}
