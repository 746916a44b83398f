import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import { httpGetText } from "../../machinery/net/http-get.js";

/** A machine config is a few KiB; anything past this is not one. */
const MAX_CONFIG_BYTES = 1 << 20;

/** Where the qemu_fw_cfg driver exposes the config QEMU was given with -fw_cfg name=opt/dev.cairn/config. */
export const FW_CFG_CONFIG_PATH = "/sys/firmware/qemu_fw_cfg/by_name/opt/dev.cairn/config/raw";

/** A machine config found at first boot, and where it came from (for events and logs). */
export interface FirstBootConfig {
  readonly source: string;
  readonly text: string;
}

/** `cairn.config=URL` from the kernel command line, if any. */
export function configUrlFromCmdline(cmdline: string): string | undefined {
  const m = /(?:^|\s)cairn\.config=(\S+)/.exec(cmdline);
  return m?.[1];
}

async function fetchConfig(url: string, log: Logger): Promise<string> {
  if (!/^https?:\/\//.test(url)) throw new CairnError("INVALID_ARGUMENT", `cairn.config=${url}: only http:// and https:// URLs are supported`);
  // The network may still be coming up: retry for a bounded time.
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      // node:http, not fetch: PID 1 runs with --lite-mode (jitless), which has
      // no WebAssembly, and fetch's HTTP parser (undici's llhttp) is wasm.
      return await httpGetText(url, MAX_CONFIG_BYTES, { timeoutMs: 10_000 });
    } catch (e) {
      if (Date.now() > deadline) throw new CairnError("UNAVAILABLE", `fetching cairn.config=${url} failed: ${(e as Error).message}`, { cause: e });
      log.warn({ url, attempt, err: (e as Error).message }, "config URL not reachable yet");
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
    }
  }
}

/**
 * The first-boot config sources, in order: QEMU fw_cfg, then a kernel
 * command-line URL. None found means maintenance mode.
 */
export async function readFirstBootConfig(log: Logger): Promise<FirstBootConfig | undefined> {
  const fwcfg = await readFile(FW_CFG_CONFIG_PATH, "utf8").catch(() => undefined);
  if (fwcfg !== undefined && fwcfg.trim() !== "") return { source: "fw_cfg opt/dev.cairn/config", text: fwcfg };
  const url = configUrlFromCmdline(await readFile("/proc/cmdline", "utf8").catch(() => ""));
  if (url) return { source: `cairn.config=${url}`, text: await fetchConfig(url, log) };
  return undefined;
}
