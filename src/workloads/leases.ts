import { randomBytes } from "node:crypto";
import type { ContainerdClient } from "./containerd/client.js";

/**
 * Runs `fn` under a fresh containerd lease, so content and snapshots it creates
 * are not garbage-collected before an image record or a GC label refers to them.
 * The lease also expires on its own (containerd.io/gc.expire) if we crash.
 */
export async function withLease<T>(ctd: ContainerdClient, fn: (lease: string) => Promise<T>): Promise<T> {
  const id = `cairn-${randomBytes(8).toString("hex")}`;
  const expire = new Date(Date.now() + 60 * 60 * 1000).toISOString();
  await ctd.call(ctd.leases.create.bind(ctd.leases), { id, labels: { "containerd.io/gc.expire": expire } }, "create lease");
  try {
    return await fn(id);
  } finally {
    await ctd.call(ctd.leases.delete.bind(ctd.leases), { id, sync: false }, "delete lease").catch(() => undefined);
  }
}
