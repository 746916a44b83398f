import { access, appendFile, chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { CairnError } from "../errors/index.js";
import type { MachineConfig } from "../machinery/config/index.js";
import type { BootIdentity, Platform } from "../platform/index.js";
import type { EventBus } from "./event-bus.js";
import { writeKernelArgs } from "./kernel-args.js";
import { TimeSync } from "./time-sync.js";

/** Controller names, in the order they run. "kernel" runs when a config is persisted, not live. */
export const CONTROLLERS = ["hostname", "sysctls", "network", "time", "files", "env", "modules", "kernel"] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

/** How one controller is doing, for the status resources. */
export interface ControllerState {
  readonly name: ControllerName;
  readonly lastAppliedUnixMs: number;
  readonly lastError: string;
  readonly lastErrorUnixMs: number;
}

export interface ControllerDeps {
  readonly platform: Platform;
  readonly identity: BootIdentity;
  readonly events: EventBus;
  readonly log: Logger;
  /** Time sync poll period once synced (tests shorten it). */
  readonly timePollMs?: number;
}

/**
 * The controllers that make the node what its config says. Each compares
 * the next config with the previous one and acts only on what changed, so
 * applying the same config twice is a no-op (and `append` files are
 * appended once per change, not per apply). A failing controller records
 * its error, publishes a `controller.error` event and throws, so the config
 * service can undo the apply. Kernel arguments are not live: they are
 * written to the running slot's boot entry whenever a config that the next
 * boot will run is persisted (`persisting`).
 */
export class ConfigControllers {
  readonly time: TimeSync;
  readonly #states = new Map<ControllerName, { lastAppliedUnixMs: number; lastError: string; lastErrorUnixMs: number }>();
  readonly #managedEnv = new Set<string>();

  constructor(private readonly deps: ControllerDeps) {
    this.time = new TimeSync({
      setClock: (ms) => deps.platform.setClock(ms),
      events: deps.events,
      log: deps.log.child({ controller: "time" }),
      ...(deps.timePollMs !== undefined && { pollMs: deps.timePollMs }),
    });
  }

  /** Applies the live parts of `next`; returns what was applied. */
  async apply(next: MachineConfig, prev: MachineConfig | undefined): Promise<string[]> {
    const done: string[] = [];
    const m = next.machine;
    const changed = (pick: (c: MachineConfig) => unknown) => prev === undefined || JSON.stringify(pick(prev)) !== JSON.stringify(pick(next));
    const { platform, log } = this.deps;

    if (m.hostname !== undefined && changed((c) => c.machine.hostname)) {
      await this.#run("hostname", () => platform.setHostname(m.hostname as string));
      done.push("hostname");
    }
    if (changed((c) => c.machine.sysctls)) {
      await this.#run("sysctls", () => platform.applySysctls(m.sysctls));
      done.push("sysctls");
    }
    if (changed((c) => c.machine.network)) {
      await this.#run("network", () => platform.configureNetwork(m.network, log));
      done.push("network");
    }
    if (changed((c) => c.machine.time)) {
      await this.#run("time", async () => this.time.configure(m.time.servers));
      done.push("time");
    }
    const prevFiles = new Map((prev?.machine.files ?? []).map((f) => [f.path, JSON.stringify(f)]));
    const files = m.files.filter((f) => prevFiles.get(f.path) !== JSON.stringify(f));
    if (files.length > 0) {
      await this.#run("files", async () => {
        for (const f of files) await writeManagedFile(platform, f);
      });
      done.push(...files.map((f) => `file:${f.path}`));
    }
    if (changed((c) => c.machine.env)) {
      await this.#run("env", async () => this.#applyEnv(m.env));
      done.push("env");
    }
    if (changed((c) => c.machine.kernel.modules)) {
      await this.#run("modules", () => this.#loadModules(m.kernel.modules.map((x) => x.name)));
      done.push("modules");
    }
    log.info({ controllers: done }, "live config applied");
    return done;
  }

  /**
   * A config is about to be persisted for the next boot (committed, or
   * staged): its kernel arguments go into the running slot's boot entry
   * first, so a successful apply always has both. `undefined` (reset,
   * maintenance) restores the build's command line.
   */
  async persisting(cfg: MachineConfig | undefined): Promise<void> {
    const args = cfg?.machine.kernel.args ?? [];
    await this.#run("kernel", async () => {
      const wrote = await writeKernelArgs(this.deps.platform.bootStore, this.deps.identity.slot, args);
      if (wrote) this.deps.log.info({ slot: this.deps.identity.slot, args }, "kernel args written to the boot entry: effective at the next boot");
    });
  }

  states(names: readonly ControllerName[] = CONTROLLERS): ControllerState[] {
    return names.map((name) => ({ name, ...(this.#states.get(name) ?? { lastAppliedUnixMs: 0, lastError: "", lastErrorUnixMs: 0 }) }));
  }

  close(): void {
    this.time.close();
  }

  async #run(name: ControllerName, fn: () => Promise<unknown>): Promise<void> {
    const prev = this.#states.get(name) ?? { lastAppliedUnixMs: 0, lastError: "", lastErrorUnixMs: 0 };
    try {
      await fn();
      this.#states.set(name, { ...prev, lastAppliedUnixMs: Date.now(), lastError: "" });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.#states.set(name, { ...prev, lastError: message, lastErrorUnixMs: Date.now() });
      this.deps.events.publish("controller.error", `${name}: ${message}`, { controller: name, error: message });
      this.deps.log.error({ controller: name, err: message }, "controller failed");
      throw e;
    }
  }

  /** The service environment: machined's own, inherited by every process it starts; keys dropped from the config are unset. */
  #applyEnv(env: Readonly<Record<string, string>>): void {
    for (const key of this.#managedEnv) if (!(key in env)) delete process.env[key];
    this.#managedEnv.clear();
    for (const [k, v] of Object.entries(env)) {
      process.env[k] = v;
      this.#managedEnv.add(k);
    }
  }

  async #loadModules(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const r = await this.deps.platform.loadModules(names, this.deps.log);
    if (r.failed.length > 0) {
      throw new CairnError("FAILED_PRECONDITION", `load kernel modules: ${r.failed.map((f) => `${f.name}: ${f.error}`).join("; ")}`, {
        details: r.failed.map((f) => ({ path: `machine.kernel.modules[${f.name}]`, message: f.error })),
      });
    }
  }
}

async function writeManagedFile(platform: Platform, f: MachineConfig["machine"]["files"][number]): Promise<void> {
  const target = platform.hostPath(f.path);
  try {
    await mkdir(dirname(target), { recursive: true });
    if (f.op === "append") await appendFile(target, f.content, { mode: f.mode });
    else if (f.op === "overwrite" || !(await exists(target))) {
      await writeFile(target, f.content, { mode: f.mode });
      // The mode option only applies when the file is created.
      await chmod(target, f.mode);
    }
  } catch (e) {
    // The kernel's own verdict (EROFS on the read-only root, EACCES, ENOSPC) goes back to the caller.
    const errno = e as NodeJS.ErrnoException;
    throw new CairnError("FAILED_PRECONDITION", `write ${f.path}: ${errno.code ?? "error"}: ${errno.message}`, {
      cause: e,
      details: [{ path: `machine.files[${f.path}]`, message: `${errno.code ?? "error"} from the kernel` }],
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
