/**
 * One declared workload (machine.workloads[] in the config, validated there).
 * The controller turns it into a containerd container and task.
 */
export interface WorkloadSpec {
  /** Unique name; also the containerd container ID. */
  readonly name: string;
  /** Image reference (`registry/repo:tag` or `...@sha256:...`). */
  readonly image: string;
  /** Replaces the image's Cmd (appended to its Entrypoint). */
  readonly args?: readonly string[];
  /** Added to (and overriding) the image's Env. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bind mounts; sources must be under /var (the only writable host tree). */
  readonly mounts?: readonly WorkloadMount[];
  /** always (default) | on-failure (non-zero exit) | never. */
  readonly restart?: RestartPolicy;
  readonly resources?: WorkloadResources;
  /** host (default): the node's network namespace; none: a private one with only loopback. */
  readonly network?: "host" | "none";
  /** Mounts the image root file system read-only. */
  readonly readOnlyRootfs?: boolean;
}

export type RestartPolicy = "always" | "on-failure" | "never";

export interface WorkloadMount {
  readonly source: string;
  readonly destination: string;
  readonly readOnly?: boolean;
}

export interface WorkloadResources {
  /** CPU limit in cores (0.5 = half a core), as a CFS quota. */
  readonly cpu?: number;
  /** Memory limit in bytes; the kernel OOM-kills the workload past it. */
  readonly memoryBytes?: number;
}
