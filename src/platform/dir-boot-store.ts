import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BootStore, EntryFile, FileRange, SlotName } from "./platform.js";

/** Where a BootStore's files live; resolved lazily so metal can mount the EFI partition on first use. */
export interface BootStoreLocations {
  /** Root of the EFI partition (holds loader/ and cairn/). */
  efiDir(): Promise<string>;
  /** Block device (metal) or file (process mode) of a root slot. */
  rootTarget(slot: SlotName): Promise<string>;
  /** Directory of trusted release keys (*.pem). */
  readonly releaseKeysDir: string;
  /** Size of a root slot in bytes (a partition's size); absent when slots have no fixed size. */
  rootCapacity?(slot: SlotName): Promise<number>;
}

const CHUNK = 1024 * 1024;

/** Copies a byte range into an open file handle from its start, then fsyncs it. */
async function copyRange(src: FileRange, dstPath: string, flags: number): Promise<void> {
  const from = await open(src.path, "r");
  try {
    const to = await open(dstPath, flags, 0o644);
    try {
      const buf = Buffer.alloc(CHUNK);
      for (let done = 0; done < src.size; ) {
        const { bytesRead } = await from.read(buf, 0, Math.min(CHUNK, src.size - done), src.offset + done);
        if (bytesRead === 0) throw new Error(`${src.path} ended ${src.size - done} bytes early`);
        let written = 0;
        while (written < bytesRead) written += (await to.write(buf, written, bytesRead - written, done + written)).bytesWritten;
        done += bytesRead;
      }
      await to.sync();
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

/** fsync of a file or directory by path. */
async function syncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a directory, so a rename in it is on disk. */
const syncDir = syncPath;

/**
 * Makes a rename durable on vfat as well as ext4. Linux's vfat gives the
 * renamed file's inode the target's directory slot but writes the slot's
 * start cluster and size only when that inode is written back: an fsync of
 * the directory alone leaves, after a power cut, the old contents under the
 * target name (rename over an existing entry) or an empty file (a new
 * name). Found by the e2e power cut after the default switched. So the file
 * is fsynced at its new name, then the directory (the old name's removal).
 */
async function syncRenamed(dir: string, name: string): Promise<void> {
  await syncPath(join(dir, name));
  await syncDir(dir);
}

/**
 * A BootStore over an EFI directory and root-slot targets: the file logic
 * both platforms share. Only the locations differ (a mounted vfat partition
 * and block devices on metal, plain directories and files in process mode).
 */
export class DirBootStore implements BootStore {
  constructor(private readonly at: BootStoreLocations) {}

  private async entriesDir(): Promise<string> {
    return join(await this.at.efiDir(), "loader", "entries");
  }

  async releaseKeys(): Promise<string[]> {
    const names = await readdir(this.at.releaseKeysDir).catch(() => [] as string[]);
    return Promise.all(names.filter((n) => n.endsWith(".pem")).sort().map((n) => readFile(join(this.at.releaseKeysDir, n), "utf8")));
  }

  async listEntries(): Promise<EntryFile[]> {
    const dir = await this.entriesDir();
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".conf") && !n.startsWith("."));
    return Promise.all(names.sort().map(async (file) => ({ file, text: await readFile(join(dir, file), "utf8") })));
  }

  async writeEntry(file: string, text: string): Promise<void> {
    const dir = await this.entriesDir();
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${file}.tmp`);
    const fh = await open(tmp, "w", 0o644);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, file));
    await syncRenamed(dir, file);
  }

  async renameEntry(from: string, to: string): Promise<void> {
    const dir = await this.entriesDir();
    await rename(join(dir, from), join(dir, to));
    await syncRenamed(dir, to);
  }

  async removeEntry(file: string): Promise<void> {
    const dir = await this.entriesDir();
    await rm(join(dir, file), { force: true });
    await syncDir(dir);
  }

  async writeBootFile(rel: string, src: FileRange): Promise<void> {
    const path = join(await this.at.efiDir(), rel);
    await mkdir(dirname(path), { recursive: true });
    await copyRange(src, path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    await syncDir(dirname(path));
  }

  async writeRootSlot(slot: SlotName, src: FileRange): Promise<void> {
    const target = await this.at.rootTarget(slot);
    await mkdir(dirname(target), { recursive: true });
    // O_TRUNC is ignored by block devices and keeps a process-mode slot file exact.
    await copyRange(src, target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  }

  async rootSlotCapacity(slot: SlotName): Promise<number | undefined> {
    return this.at.rootCapacity?.(slot);
  }

  async bootSpaceFor(rel: string): Promise<number> {
    const efi = await this.at.efiDir();
    const fs = await statfs(efi);
    const dir = join(efi, rel);
    const names = await readdir(dir).catch(() => [] as string[]);
    const sizes = await Promise.all(names.map((n) => stat(join(dir, n)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
    return fs.bavail * fs.bsize + sizes.reduce((a, b) => a + b, 0);
  }
}
