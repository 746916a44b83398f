import { existsSync } from "node:fs";
import { CairnError } from "../errors/index.js";
import type { Firmware } from "./types.js";

/**
 * Where distributions put OVMF, best first. Debian 12 ships the 4 MiB build
 * (`OVMF_CODE_4M.fd`); the 2 MiB names are older Debian/Ubuntu; edk2/ovmf is Fedora.
 * The plain (non-secboot) CODE is used: Cairn images are not signed for Secure Boot.
 */
export const FIRMWARE_CANDIDATES: readonly Firmware[] = [
  { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
  { code: "/usr/share/OVMF/OVMF_CODE.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS.fd" },
  { code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", varsTemplate: "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
];

/**
 * Finds an OVMF CODE/VARS pair. `CAIRN_OVMF_CODE` and `CAIRN_OVMF_VARS` override
 * the search (both must be set). `exists` is injectable for tests.
 */
export function findFirmware(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): Firmware {
  const code = env["CAIRN_OVMF_CODE"];
  const vars = env["CAIRN_OVMF_VARS"];
  if (code !== undefined || vars !== undefined) {
    if (code === undefined || vars === undefined || !exists(code) || !exists(vars)) {
      throw new CairnError("FAILED_PRECONDITION", `OVMF override not usable: CAIRN_OVMF_CODE=${code} CAIRN_OVMF_VARS=${vars}`, {
        hint: "set both variables to existing files",
      });
    }
    return { code, varsTemplate: vars };
  }
  const found = FIRMWARE_CANDIDATES.find((f) => exists(f.code) && exists(f.varsTemplate));
  if (found === undefined) {
    throw new CairnError("FAILED_PRECONDITION", "no OVMF firmware found", {
      hint: "apt-get install ovmf (looked in /usr/share/OVMF and /usr/share/edk2/ovmf)",
    });
  }
  return found;
}
