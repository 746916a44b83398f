/**
 * A minimal writer for the "newc" cpio format the kernel unpacks as an
 * initramfs. Written here instead of piping `find | cpio` so that device
 * nodes (/dev/console) need no mknod on the build host and the archive is
 * byte-for-byte reproducible (fixed owners, inode numbers and mtimes).
 */

/** One archive member. Directories must precede their contents. */
export type CpioEntry =
  | { readonly path: string; readonly type: "dir"; readonly mode?: number }
  | { readonly path: string; readonly type: "file"; readonly data: Uint8Array; readonly mode?: number }
  | { readonly path: string; readonly type: "char"; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function member(ino: number, name: string, mode: number, data: Uint8Array, rdev: [number, number], nlink: number): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join("")}`, "ascii");
  const headerAndName = header.length + nameBytes.length;
  return [header, nameBytes, pad4(headerAndName), Buffer.from(data), pad4(data.length)];
}

/** Serializes entries (paths relative to /, no leading slash needed) into a newc archive. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    if (e.type === "dir") {
      chunks.push(...member(ino++, name, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(), [0, 0], 2));
    } else if (e.type === "file") {
      chunks.push(...member(ino++, name, S_IFREG | (e.mode ?? 0o644), e.data, [0, 0], 1));
    } else {
      chunks.push(...member(ino++, name, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(), [e.major, e.minor], 1));
    }
  }
  chunks.push(...member(0, "TRAILER!!!", 0, new Uint8Array(), [0, 0], 1));
  return Buffer.concat(chunks);
}
