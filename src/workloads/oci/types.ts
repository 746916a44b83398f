/**
 * The OCI image-spec (and Docker v2 schema 2) shapes Cairn reads: just the
 * fields the pull, import and unpack paths use. Everything else in a manifest
 * or config is kept as opaque JSON in the content store.
 */
export const MEDIA = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export const INDEX_TYPES: readonly string[] = [MEDIA.ociIndex, MEDIA.dockerManifestList];
export const MANIFEST_TYPES: readonly string[] = [MEDIA.ociManifest, MEDIA.dockerManifest];

export interface OciPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: OciPlatform;
}

export interface OciIndex {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly manifests: readonly OciDescriptor[];
}

export interface OciManifest {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly config: OciDescriptor;
  readonly layers: readonly OciDescriptor[];
}

/** The image config fields a container needs (`config`) and unpack needs (`rootfs.diff_ids`). */
export interface OciImageConfig {
  readonly architecture?: string;
  readonly os?: string;
  readonly config?: {
    readonly Entrypoint?: readonly string[] | null;
    readonly Cmd?: readonly string[] | null;
    readonly Env?: readonly string[] | null;
    readonly WorkingDir?: string;
    readonly User?: string;
  };
  readonly rootfs: { readonly type: string; readonly diff_ids: readonly string[] };
}

/** The platform Cairn nodes run (x86_64 only for now). */
export const NODE_PLATFORM: OciPlatform = { os: "linux", architecture: "amd64" };
