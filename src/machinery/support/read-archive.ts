import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

/** Reads a tar.gz into memory as name → content: for checking a bundle (tests, tooling), not for huge archives. */
export async function readTarGz(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  ex.on("entry", (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on("data", (d: unknown) => parts.push(d as Buffer));
    stream.on("end", () => {
      if (header.type === "file") files.set(header.name, Buffer.concat(parts));
      next();
    });
  });
  await pipeline(createReadStream(path), createGunzip(), ex);
  return files;
}
