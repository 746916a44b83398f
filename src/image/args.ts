import { parseArgs } from "node:util";
import { DEFAULT_DISK_MIB } from "./gpt-layout.js";

/** Options of one image build (`npm run image -- --version X ...`). */
export interface BuildOptions {
  readonly version: string;
  /** TypeScript or JS entry bundled as /usr/lib/cairn/machined.mjs. */
  readonly entry: string;
  readonly outDir: string;
  readonly cacheDir: string;
  /** Directory with release.key.pem (a dev pair is created there when missing). */
  readonly keysDir: string;
  readonly diskMiB: number;
}

/** Usage text printed on bad arguments or --help. */
export const USAGE = `usage: imager --version X [--entry cmd/machined.ts] [--out dist] [--cache .cache] [--keys hack/.keys] [--disk-mib ${DEFAULT_DISK_MIB}]`;

/**
 * Parses imager arguments. Versions are restricted to characters that are
 * safe in file names, os-release and boot entries (e.g. 0.2.0, 1.0.0-rc.1).
 */
export function parseImagerArgs(argv: readonly string[]): BuildOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      version: { type: "string" },
      entry: { type: "string", default: "cmd/machined.ts" },
      out: { type: "string", default: "dist" },
      cache: { type: "string", default: ".cache" },
      keys: { type: "string", default: "hack/.keys" },
      "disk-mib": { type: "string", default: String(DEFAULT_DISK_MIB) },
    },
  });
  const version = values.version;
  if (!version || !/^[0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}$/.test(version)) {
    throw new Error(`--version is required and may hold only letters, digits and . + ~ _ -\n${USAGE}`);
  }
  const diskMiB = Number(values["disk-mib"]);
  if (!Number.isInteger(diskMiB) || diskMiB < 1) throw new Error(`--disk-mib must be a positive integer\n${USAGE}`);
  return { version, entry: values.entry, outDir: values.out, cacheDir: values.cache, keysDir: values.keys, diskMiB };
}
