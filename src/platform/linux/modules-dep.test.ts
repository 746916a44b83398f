import { describe, expect, it } from "vitest";
import { moduleLoadOrder, moduleName, parseModulesDep, parseProcModules, unknownModules } from "./modules-dep.js";

// Shaped like depmod output for Debian's cloud kernel.
const DEP = `kernel/drivers/virtio/virtio.ko.xz:
kernel/drivers/virtio/virtio_ring.ko.xz: kernel/drivers/virtio/virtio.ko.xz
kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:
kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
kernel/fs/squashfs/squashfs.ko:
kernel/net/core/failover.ko.zst:
kernel/drivers/net/net_failover.ko.zst: kernel/net/core/failover.ko.zst
kernel/drivers/net/virtio_net.ko.zst: kernel/drivers/net/net_failover.ko.zst kernel/net/core/failover.ko.zst kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
`;

describe("modules.dep", () => {
  it("names modules as the kernel does", () => {
    expect(moduleName("kernel/drivers/virtio/virtio_blk.ko.xz")).toBe("virtio_blk");
    expect(moduleName("kernel/x/crc32c-intel.ko")).toBe("crc32c_intel");
  });

  it("orders every module after its dependencies", () => {
    const dep = parseModulesDep(DEP);
    const order = moduleLoadOrder(dep);
    expect(order).toHaveLength(dep.size);
    for (const [m, deps] of dep) for (const d of deps) expect(order.indexOf(d)).toBeLessThan(order.indexOf(m));
  });

  it("loads only what is wanted plus its closure", () => {
    const order = moduleLoadOrder(parseModulesDep(DEP), ["virtio-net"]).map(moduleName);
    expect(order).toEqual(["virtio", "virtio_ring", "failover", "net_failover", "virtio_net"]);
    expect(unknownModules(parseModulesDep(DEP), ["virtio_net", "ext4"])).toEqual(["ext4"]);
  });

  it("reads loaded names from /proc/modules", () => {
    expect(parseProcModules("virtio_net 73728 0 - Live 0x0\nfailover 12288 1 net_failover, Live 0x0\n")).toEqual(
      new Set(["virtio_net", "failover"]),
    );
  });
});
