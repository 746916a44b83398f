import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { readTextIfExists, removeFileDurable, writeFileAtomic } from "../machinery/fs/index.js";

/**
 * The machine config on the STATE partition. `active.yaml` is what the node
 * runs with; `staged.yaml` waits for the next boot. Every write is atomic
 * (temp, fsync, rename, fsync dir), so a crash or power cut leaves the old or
 * the new document, never a torn one.
 */
export class ConfigStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "config");
  }

  get activePath(): string {
    return join(this.dir, "active.yaml");
  }

  get stagedPath(): string {
    return join(this.dir, "staged.yaml");
  }

  async readActive(): Promise<string | undefined> {
    return readTextIfExists(this.activePath);
  }

  async readStaged(): Promise<string | undefined> {
    return readTextIfExists(this.stagedPath);
  }

  async writeActive(text: string): Promise<void> {
    await writeFileAtomic(this.activePath, text, { mode: 0o600 });
  }

  async writeStaged(text: string): Promise<void> {
    await writeFileAtomic(this.stagedPath, text, { mode: 0o600 });
  }

  async clearStaged(): Promise<void> {
    await removeFileDurable(this.stagedPath);
  }

  /** At boot: removes temp files a crash left mid-write (the target itself is never torn). */
  async sweepTemps(): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const temps = names.filter((n) => n.startsWith(".") && n.endsWith(".tmp"));
    await Promise.all(temps.map((n) => rm(join(this.dir, n), { force: true })));
    return temps.length;
  }

  /** At boot: a staged config becomes active. Returns true when one was promoted. */
  async promoteStaged(): Promise<boolean> {
    const staged = await this.readStaged();
    if (staged === undefined) return false;
    await this.writeActive(staged);
    await this.clearStaged();
    return true;
  }
}
