import { slotEfiDir } from "../../machinery/boot/index.js";
import type { VerifiedBundle } from "../../machinery/bundle/index.js";
import { CairnError } from "../../errors/index.js";
import type { BootStore, SlotName } from "../../platform/index.js";

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * Refuses (FAILED_PRECONDITION, before anything is written) a bundle whose
 * rootfs is larger than the slot's root partition, or whose kernel and
 * initramfs do not fit on the EFI partition beside what is already there.
 */
export async function checkSlotFits(store: BootStore, slot: SlotName, bundle: VerifiedBundle): Promise<void> {
  const size = (name: string) => bundle.parts.find((p) => p.name === name)?.size ?? 0;
  const version = bundle.manifest.version;
  const capacity = await store.rootSlotCapacity(slot);
  const rootfs = size("rootfs");
  if (capacity !== undefined && rootfs > capacity) {
    throw new CairnError("FAILED_PRECONDITION", `bundle ${version} does not fit slot ${slot}: its rootfs is ${rootfs} bytes (${MiB(rootfs)}), the ROOT-${slot} partition holds ${capacity} bytes (${MiB(capacity)})`, {
      hint: "build a smaller image, or reinstall with a disk layout whose root slots are larger",
    });
  }
  const boot = size("kernel") + size("initramfs");
  const room = await store.bootSpaceFor(slotEfiDir(slot).slice(1));
  if (boot > room) {
    throw new CairnError("FAILED_PRECONDITION", `bundle ${version} does not fit the EFI partition: kernel + initramfs are ${boot} bytes (${MiB(boot)}), ${room} bytes (${MiB(room)}) are free for slot ${slot}`);
  }
}
