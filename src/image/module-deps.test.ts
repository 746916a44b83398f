import { describe, expect, it } from "vitest";
import { loadOrder, moduleName, modulePaths, parseModulesDep } from "./module-deps.js";

const DEP = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
`;

describe("module-deps", () => {
  const graph = parseModulesDep(DEP);

  it("folds dashes and strips suffixes in names", () => {
    expect(moduleName("kernel/a/virtio-rng.ko")).toBe("virtio_rng");
    expect(moduleName("kernel/a/x.ko.zst")).toBe("x");
  });

  it("orders every module after its dependencies, once", () => {
    const order = loadOrder(graph, ["virtio_pci", "virtio_blk", "virtio-rng"]);
    expect(new Set(order).size).toBe(order.length);
    for (const [name, node] of graph) {
      if (!order.includes(name)) continue;
      for (const dep of node.deps) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(name));
    }
    expect(order.at(-1)).toBe("virtio_rng");
  });

  it("maps names back to modules.dep paths", () => {
    expect(modulePaths(graph, ["virtio_rng"])).toEqual(["kernel/drivers/char/hw_random/virtio-rng.ko"]);
  });

  it("rejects an unknown module with the chain that wanted it", () => {
    expect(() => loadOrder(graph, ["nope"])).toThrow(/nope is not in modules.dep/);
  });
});
