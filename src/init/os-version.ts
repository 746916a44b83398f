import { readFile } from "node:fs/promises";

/** The project's version from package.json: what a process-mode node reports. */
export async function readOsVersion(): Promise<string> {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(await readFile(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "cairn" && pkg.version) return pkg.version;
    } catch {
      // Try the next candidate: the depth differs between src/ and build/.
    }
  }
  return "0.0.0-dev";
}
