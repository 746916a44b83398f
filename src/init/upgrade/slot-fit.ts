import { slotEfiDir } from "../../machinery/boot/index.js";
import type { BundleManifest } from "../../machinery/bundle/index.js";
import { CairnError } from "../../errors/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";

/** Room an upgrade has in a slot: the root partition's size (undefined: unbounded) and the EFI bytes its kernel and initramfs may take. */
export interface SlotRoom {
  readonly slot: SlotName;
  readonly rootBytes: number | undefined;
  readonly bootBytes: number;
}

/** Measures the room in `slot` before an install starts. */
export async function slotRoom(store: BootStore, slot: SlotName): Promise<SlotRoom> {
  return { slot, rootBytes: await store.rootSlotCapacity(slot), bootBytes: await store.bootSpaceFor(slotEfiDir(slot).slice(1)) };
}

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * Refuses (FAILED_PRECONDITION) a bundle whose rootfs is larger than the
 * slot's root partition, or whose kernel and initramfs do not fit on the
 * EFI partition. Synchronous on the signed manifest, so the streaming
 * verifier refuses before any part byte arrives and nothing is written.
 */
export function checkSlotFits(manifest: BundleManifest, room: SlotRoom): void {
  const size = (name: string) => manifest.parts.find((p) => p.name === name)?.size ?? 0;
  const { version } = manifest;
  const rootfs = size("rootfs");
  if (room.rootBytes !== undefined && rootfs > room.rootBytes) {
    throw new CairnError("FAILED_PRECONDITION", `bundle ${version} does not fit slot ${room.slot}: its rootfs is ${rootfs} bytes (${MiB(rootfs)}), the ROOT-${room.slot} partition holds ${room.rootBytes} bytes (${MiB(room.rootBytes)})`, {
      hint: "build a smaller image, or reinstall with a disk layout whose root slots are larger",
    });
  }
  const boot = size("kernel") + size("initramfs");
  if (boot > room.bootBytes) {
    throw new CairnError("FAILED_PRECONDITION", `bundle ${version} does not fit the EFI partition: kernel + initramfs are ${boot} bytes (${MiB(boot)}), ${room.bootBytes} bytes (${MiB(room.bootBytes)}) are free for slot ${room.slot}`);
  }
}
