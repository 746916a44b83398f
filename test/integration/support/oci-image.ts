import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

/** Debian's busybox-static: the test image's only payload (host test dependency, never in the Cairn image). */
export const BUSYBOX = "/bin/busybox";

export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly data: Buffer;
}

/** An OCI image built in memory: its blobs, the manifest descriptor and the index.json bytes. */
export interface TestImage {
  readonly config: Blob;
  readonly layer: Blob;
  readonly manifest: Blob;
  /** index.json of an OCI layout holding just this manifest, named `name`. */
  readonly indexJson: Buffer;
  readonly name: string;
}

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const blob = (mediaType: string, data: Buffer): Blob => ({ mediaType, data, digest: digestOf(data), size: data.length });

async function packTar(entries: { name: string; type: "file" | "directory" | "symlink"; data?: Buffer; linkname?: string; mode: number }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  pack.on("data", (c) => out.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const e of entries) {
    const header = { name: e.name, type: e.type, mode: e.mode, mtime: new Date(0), uid: 0, gid: 0, ...(e.linkname ? { linkname: e.linkname } : {}) };
    await new Promise<void>((res, rej) => pack.entry(header, e.data ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

function applets(): string[] {
  const out = spawnSync(BUSYBOX, ["--list"], { encoding: "utf8" }).stdout;
  return out.split("\n").filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== "busybox" && !a.includes("["));
}

/**
 * An OCI image around busybox-static: one gzip layer with /bin/busybox, a
 * /bin/sh link and the usual empty directories; Env PATH and Cmd sh.
 * `marker` ends up in the config so two images can have different digests.
 */
export async function buildBusyboxImage(name: string, marker = "v1"): Promise<TestImage> {
  const dirs = ["bin", "dev", "etc", "proc", "sys", "tmp", "var", "run"];
  const layerTar = await packTar([
    ...dirs.map((d) => ({ name: `${d}/`, type: "directory" as const, mode: d === "tmp" ? 0o1777 : 0o755 })),
    { name: "bin/busybox", type: "file", data: readFileSync(BUSYBOX), mode: 0o755 },
    // Every applet as /bin/<name> -> busybox, as busybox --install would do.
    ...applets().map((a) => ({ name: `bin/${a}`, type: "symlink" as const, linkname: "busybox", mode: 0o777 })),
    { name: "etc/cairn-test", type: "file", data: Buffer.from(`${marker}\n`), mode: 0o644 },
  ]);
  const layer = blob("application/vnd.oci.image.layer.v1.tar+gzip", gzipSync(layerTar));
  const config = blob(
    "application/vnd.oci.image.config.v1+json",
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Env: ["PATH=/bin", `CAIRN_TEST_MARKER=${marker}`], Cmd: ["sh"], WorkingDir: "/" },
        rootfs: { type: "layers", diff_ids: [digestOf(layerTar)] },
      }),
    ),
  );
  const manifest = blob(
    "application/vnd.oci.image.manifest.v1+json",
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
        layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
      }),
    ),
  );
  const indexJson = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.size,
          platform: { os: "linux", architecture: "amd64" },
          annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.split(":").pop() },
        },
      ],
    }),
  );
  return { config, layer, manifest, indexJson, name };
}

/** The image as an OCI layout archive (what `nodectl image import` will upload). */
export function ociArchive(img: TestImage): Promise<Buffer> {
  const blobs = [img.config, img.layer, img.manifest];
  return packTar([
    { name: "oci-layout", type: "file", data: Buffer.from('{"imageLayoutVersion":"1.0.0"}'), mode: 0o644 },
    { name: "index.json", type: "file", data: img.indexJson, mode: 0o644 },
    { name: "blobs/", type: "directory", mode: 0o755 },
    { name: "blobs/sha256/", type: "directory", mode: 0o755 },
    ...blobs.map((b) => ({ name: `blobs/sha256/${b.digest.slice(7)}`, type: "file" as const, data: b.data, mode: 0o644 })),
  ]);
}

/**
 * Pushes the image to a registry with the plain OCI distribution API: a
 * monolithic upload (POST then PUT ?digest=) per blob, then PUT of the manifest.
 */
export async function pushImage(registryUrl: string, repository: string, tag: string, img: TestImage): Promise<void> {
  for (const b of [img.layer, img.config]) {
    const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: "POST" });
    if (start.status !== 202) throw new Error(`push ${b.digest}: POST uploads: HTTP ${start.status}`);
    const location = new URL(start.headers.get("location")!, registryUrl);
    location.searchParams.set("digest", b.digest);
    const put = await fetch(location, { method: "PUT", body: b.data, headers: { "content-type": "application/octet-stream" } });
    if (put.status !== 201) throw new Error(`push ${b.digest}: PUT: HTTP ${put.status} ${await put.text()}`);
  }
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    body: img.manifest.data,
    headers: { "content-type": img.manifest.mediaType },
  });
  if (res.status !== 201) throw new Error(`push manifest: HTTP ${res.status} ${await res.text()}`);
}
