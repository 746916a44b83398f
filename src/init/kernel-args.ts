import { entrySlot, kernelCmdline, parseLoaderEntry } from "../machinery/boot/index.js";
import { CairnError } from "../errors/index.js";
import type { BootStore, SlotName } from "../platform/index.js";

/** The options line a slot's entry gets for `args`: the build's command line, then the configured arguments. */
export function entryOptions(slot: SlotName, args: readonly string[]): string {
  return [kernelCmdline(slot), ...args].join(" ");
}

/**
 * The configured arguments an entry's options line carries for `slot`: what
 * follows the build's command line. An options line that does not start with
 * it (hand-edited, or another build's) yields none.
 */
export function configuredArgs(slot: SlotName, entryText: string): string[] {
  const options = optionsOf(entryText);
  const base = kernelCmdline(slot);
  if (options !== base && !options.startsWith(`${base} `)) return [];
  return options.slice(base.length).trim().split(/\s+/).filter(Boolean);
}

/** The value of an entry's `options` line ("" when it has none). */
function optionsOf(entryText: string): string {
  const line = entryText.split("\n").find((l) => /^options[ \t]/.test(l));
  return line ? line.slice("options".length).trim() : "";
}

/** `text` with its `options` line replaced (added when missing). Pure. */
export function withOptions(text: string, options: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /^options[ \t]/.test(l) || l === "options");
  if (i >= 0) lines[i] = `options ${options}`;
  else lines.splice(lines.length && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length, 0, `options ${options}`);
  return lines.join("\n");
}

/** The running slot's entry file on the EFI partition and its options line. */
export async function readSlotEntry(store: BootStore, slot: SlotName): Promise<{ file: string; text: string; options: string } | undefined> {
  for (const e of await store.listEntries()) {
    const parsed = parseLoaderEntry(e.file, e.text);
    if (!parsed) continue;
    const entrySlotName = parsed.slotOption ?? entrySlot(parsed.id);
    if (entrySlotName !== slot) continue;
    return { file: e.file, text: e.text, options: optionsOf(e.text) };
  }
  return undefined;
}

/**
 * Writes `args` into the running slot's systemd-boot entry (the `options`
 * line on the EFI partition), so they take effect at the next boot of this
 * slot. A no-op when the entry already says so. Returns whether it wrote.
 */
export async function writeKernelArgs(store: BootStore, slot: SlotName, args: readonly string[]): Promise<boolean> {
  const entry = await readSlotEntry(store, slot);
  if (!entry) throw new CairnError("FAILED_PRECONDITION", `kernel args: no boot entry for slot ${slot} on the EFI partition`, { details: [{ path: "machine.kernel.args", message: "the running slot has no boot entry to write them to" }] });
  const next = withOptions(entry.text, entryOptions(slot, args));
  if (next === entry.text) return false;
  await store.writeEntry(entry.file, next);
  return true;
}
