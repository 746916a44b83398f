import { InvalidArgumentError } from "commander";
import { ApplyMode } from "../api/index.js";

/** "30s", "2m", "1h" or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`"${text}" is not a duration like 30s, 2m or 1h`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"]);
}

/** Comma-separated list, accumulating across repeated flags. */
export function parseList(text: string, prev: string[] = []): string[] {
  return [...prev, ...text.split(",").map((s) => s.trim()).filter(Boolean)];
}

export function collect(text: string, prev: string[] = []): string[] {
  return [...prev, text];
}

export function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${text}" is not a whole number >= 0`);
  return n;
}

const MODES: Record<string, ApplyMode> = {
  auto: ApplyMode.APPLY_MODE_AUTO,
  "no-reboot": ApplyMode.APPLY_MODE_NO_REBOOT,
  reboot: ApplyMode.APPLY_MODE_REBOOT,
  staged: ApplyMode.APPLY_MODE_STAGED,
  try: ApplyMode.APPLY_MODE_TRY,
};
export const MODE_NAMES = Object.keys(MODES);

export function parseApplyMode(text: string): ApplyMode {
  const m = MODES[text];
  if (m === undefined) throw new InvalidArgumentError(`"${text}" is not one of ${MODE_NAMES.join(", ")}`);
  return m;
}

export function applyModeName(mode: ApplyMode): string {
  return Object.entries(MODES).find(([, v]) => v === mode)?.[0] ?? String(mode);
}
