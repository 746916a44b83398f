import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContainerdClient } from "../../src/workloads/containerd/client.js";
import { importOciArchive } from "../../src/workloads/image-import.js";
import { pullImage } from "../../src/workloads/image-pull.js";
import { listImages, removeImage, resolveImage } from "../../src/workloads/images.js";
import { generateCa, issueServerCert } from "../../src/pki/index.js";
import { containerdUnavailable, startContainerd, startRegistry, type Daemon } from "./support/containerd.js";
import { buildBusyboxImage, ociArchive, pushImage } from "./support/oci-image.js";

const skip = containerdUnavailable();

// Images through a real containerd 1.6 (Debian's) and a real registry (Debian's docker-registry).
describe.skipIf(skip !== undefined)(`workloads images${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string;
  let containerd: Daemon & { socket: string };
  let registry: Daemon & { url: string; host: string };
  let ctd: ContainerdClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-wl-img-"));
    containerd = await startContainerd(join(dir, "containerd"));
    registry = await startRegistry(join(dir, "registry"));
    ctd = new ContainerdClient({ socketPath: containerd.socket, namespace: `cairn-test-${process.pid}` });
  });

  afterAll(async () => {
    ctd?.close();
    await registry?.stop();
    await containerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pulls an image the test pushed to the registry, verifies and unpacks it", async () => {
    const img = await buildBusyboxImage(`${registry.host}/cairn/busybox:1`);
    await pushImage(registry.url, "cairn/busybox", "1", img);
    const r = await pullImage(ctd, `${registry.host}/cairn/busybox:1`, {
      registries: { [registry.host]: { endpoint: registry.url } },
    });
    expect(r.name).toBe(`${registry.host}/cairn/busybox:1`);
    expect(r.digest).toBe(img.manifest.digest);
    const resolved = await resolveImage(ctd, r.name);
    expect(resolved.manifest.layers[0]!.digest).toBe(img.layer.digest);
    const snap = await ctd.call(ctd.snapshots.stat.bind(ctd.snapshots), { snapshotter: "overlayfs", key: r.chainId }, "stat");
    expect(snap.info?.kind).toBe(3); // COMMITTED
    expect((await listImages(ctd)).map((i) => i.name)).toContain(r.name);
  });

  it("pulls over HTTPS from a registry with its own CA, and refuses it without that CA", async () => {
    const ca = generateCa({ commonName: "cairn test registry CA" });
    const cert = issueServerCert(ca, { commonName: "127.0.0.1", dnsNames: [], ipAddresses: ["127.0.0.1"] });
    // Same storage as the plain registry: the image pushed there is served here over TLS.
    const tls = await startRegistry(join(dir, "registry-tls"), {
      dataDir: join(dir, "registry", "data"),
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
    });
    try {
      const ref = `${tls.host}/cairn/busybox:1`;
      await expect(pullImage(ctd, ref)).rejects.toThrow(/GET https:\/\/127.0.0.1:\d+\/v2\/cairn\/busybox\/manifests\/1: .*(self[- ]signed|unable to verify|certificate)/i);
      const r = await pullImage(ctd, ref, { registries: { [tls.host]: { ca: ca.certPem } } });
      expect(r.name).toBe(ref);
    } finally {
      await tls.stop();
    }
  });

  it("pulls from a registry that requires a username and password (HTTPS, Basic), and names a missing or wrong one", async () => {
    const ca = generateCa({ commonName: "cairn test registry CA" });
    const cert = issueServerCert(ca, { commonName: "127.0.0.1", dnsNames: [], ipAddresses: ["127.0.0.1"] });
    const basicAuth = { username: "cairn", password: "s3cret:with-colon" };
    // Same storage as the plain registry, behind TLS and htpasswd (bcrypt) auth.
    const locked = await startRegistry(join(dir, "registry-auth"), {
      dataDir: join(dir, "registry", "data"),
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
      basicAuth,
    });
    try {
      const ref = `${locked.host}/cairn/busybox:1`;
      await expect(pullImage(ctd, ref, { registries: { [locked.host]: { ca: ca.certPem } } })).rejects.toThrow(/registry asks for a username and password; none configured/);
      await expect(pullImage(ctd, ref, { registries: { [locked.host]: { ca: ca.certPem, username: "cairn", password: "wrong" } } })).rejects.toThrow(/HTTP 401: the registry refused the username and password configured for 127\.0\.0\.1:\d+/);
      const r = await pullImage(ctd, ref, { registries: { [locked.host]: { ca: ca.certPem, ...basicAuth } } });
      expect(r.name).toBe(ref);
    } finally {
      await locked.stop();
    }
  });

  it("names a missing tag and an unreachable registry", async () => {
    await expect(pullImage(ctd, `${registry.host}/cairn/busybox:nope`, { registries: { [registry.host]: { endpoint: registry.url } } })).rejects.toThrow(/manifests\/nope: HTTP 404/);
    await expect(pullImage(ctd, "127.0.0.1:1/cairn/busybox:1", { registries: { "127.0.0.1:1": { endpoint: "http://127.0.0.1:1" } } })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("imports an OCI archive and removes the image again", async () => {
    const img = await buildBusyboxImage("cairn.test/import/busybox:2", "import");
    const names = await importOciArchive(ctd, Readable.from(await ociArchive(img)));
    expect(names).toEqual(["cairn.test/import/busybox:2"]);
    const resolved = await resolveImage(ctd, names[0]!);
    expect(resolved.config.config?.Env).toContain("CAIRN_TEST_MARKER=import");
    await removeImage(ctd, names[0]!);
    expect((await listImages(ctd)).map((i) => i.name)).not.toContain(names[0]);
  });

  it("refuses an archive whose blob does not match its name", async () => {
    const img = await buildBusyboxImage("cairn.test/import/bad:1", "bad");
    const tampered = { ...img, config: { ...img.config, data: Buffer.from(img.config.data.toString().replace("bad", "bax")) } };
    await expect(importOciArchive(ctd, Readable.from(await ociArchive(tampered)))).rejects.toThrow(/digest mismatch/);
  });
});
