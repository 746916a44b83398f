import { bootEntry, bootEntryFileName, slotEfiDir, SORT_KEY } from "../../machinery/boot/index.js";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";
import { configuredArgs, entryOptions, readSlotEntry, withOptions } from "../kernel-args.js";
import { readLoaderEntries, otherSlot } from "./slot-entries.js";

/** Boot tries a freshly written slot gets before systemd-boot falls back (the default; the Upgrade header may ask for 1-9). */
export const UPGRADE_TRIES = 3;
export const MAX_UPGRADE_TRIES = 9;

/**
 * The writes of an install, in order; `onStep` hears each just before it
 * starts ("switch" is the rewrite of the booted entry that makes the new
 * slot the default). machined logs them, so a console shows how far a cut
 * install got (the e2e power cuts time their kills on these lines).
 */
export type WriteStep = "remove entry" | "rootfs" | "kernel" | "initramfs" | "entry" | "switch";

/**
 * Writes a verified bundle into `slot` (never the booted one) in an order
 * that is safe to cut at any point: first the slot's old entry goes (so a
 * half-written slot can never boot), then the rootfs onto ROOT-<slot>, the
 * kernel and initramfs under /cairn/<slot>/, then the new entry with
 * `tries` (default UPGRADE_TRIES) tries. Unless `stageOnly`, the new entry is the preferred
 * one and the booted slot's entry is rewritten as the fallback: that last
 * atomic rename is the moment the default switches. Both entries keep the
 * kernel args machine.kernel.args wrote into the booted slot's entry, so the
 * new version's first boot already runs with them.
 */
export async function writeSlot(
  store: BootStore,
  o: { slot: SlotName; bundle: VerifiedBundle; spoolPath: string; stageOnly: boolean; booted: { version: string }; tries?: number; onStep?: (step: WriteStep) => void },
): Promise<{ entry: string }> {
  const step = o.onStep ?? (() => undefined);
  const part = (name: "kernel" | "initramfs" | "rootfs") => {
    const p = o.bundle.parts.find((x) => x.name === name)!;
    return { path: o.spoolPath, offset: p.offset, size: p.size };
  };
  const booted = otherSlot(o.slot);
  const entries = await readLoaderEntries(store);
  const bootedEntry = await readSlotEntry(store, booted);
  const args = bootedEntry === undefined ? [] : configuredArgs(booted, bootedEntry.text);
  const stale = entries.filter((x) => x.id === `cairn-${o.slot.toLowerCase()}`);
  if (stale.length > 0) step("remove entry");
  for (const e of stale) await store.removeEntry(e.file);
  step("rootfs");
  await store.writeRootSlot(o.slot, part("rootfs"));
  const dir = slotEfiDir(o.slot).slice(1);
  step("kernel");
  await store.writeBootFile(`${dir}/vmlinuz`, part("kernel"));
  step("initramfs");
  await store.writeBootFile(`${dir}/initramfs.zst`, part("initramfs"));
  const entry = bootEntryFileName(o.slot, o.tries ?? UPGRADE_TRIES);
  const version = o.bundle.manifest.version;
  step("entry");
  await store.writeEntry(entry, withOptions(bootEntry(o.slot, version, o.stageOnly ? SORT_KEY.fallback : SORT_KEY.preferred), entryOptions(o.slot, args)));
  if (!o.stageOnly) {
    step("switch");
    for (const e of entries.filter((x) => x.id === `cairn-${booted.toLowerCase()}`)) {
      await store.writeEntry(e.file, withOptions(bootEntry(booted, o.booted.version, SORT_KEY.fallback), entryOptions(booted, args)));
    }
  }
  return { entry };
}
