import { z } from "zod";
import { parseReference } from "../../workloads/oci/reference.js";

/**
 * machine.workloads and machine.registries (issue 7): containers the node runs
 * through containerd, and how to reach the registries their images come from.
 * Both are applied live by the workload controller.
 */

const pem = (what: string) => z.string().regex(/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/, `must be a PEM-encoded ${what}`);

const imageRef = z.string().superRefine((s, ctx) => {
  try {
    parseReference(s, "image");
  } catch (e) {
    ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message.replace(/^image: /, "") : String(e) });
  }
});

/** Bytes with an optional binary (Ki, Mi, Gi) or decimal (K, M, G) suffix. */
export const MEMORY_QUANTITY = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/;

/** "64Mi" → 67108864. The schema has checked the format. */
export function memoryBytes(q: string): number {
  const m = MEMORY_QUANTITY.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

const varPath = z
  .string()
  .regex(/^\/var\/[^\0]*$/, "must be an absolute path below /var (the only writable host tree)")
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'");

export const WorkloadMountSchema = z.strictObject({
  /** Host directory or file, below /var. */
  source: varPath,
  /** Absolute path inside the container. */
  destination: z.string().regex(/^\//, "must be an absolute path"),
  readOnly: z.boolean().default(false),
});

export const WorkloadSchema = z.strictObject({
  /** Unique; the containerd container ID. */
  name: z.string().max(63).regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, "must be lowercase letters and digits, separated by single '.', '_' or '-'"),
  /** Image reference, pulled from its registry unless already present (imported). */
  image: imageRef,
  /** Replaces the image's Cmd (the Entrypoint stays). */
  args: z.array(z.string()).optional(),
  /** Added to the image's environment. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string()).default({}),
  mounts: z.array(WorkloadMountSchema).default([]),
  /** always: restart on any exit; on-failure: on a non-zero exit; never. */
  restart: z.enum(["always", "on-failure", "never"]).default("always"),
  resources: z
    .strictObject({
      /** CPU limit in cores, e.g. 0.5. */
      cpu: z.number().positive().max(1024).optional(),
      /** Memory limit, e.g. "256Mi"; past it the kernel OOM-kills the workload. */
      memory: z.string().regex(MEMORY_QUANTITY, 'must be bytes or a quantity like "256Mi" or "1G"').optional(),
    })
    .default({}),
  /** host: the node's network (default); none: loopback only. */
  network: z.enum(["host", "none"]).default("host"),
  readOnlyRootfs: z.boolean().default(false),
});

export const RegistrySchema = z
  .strictObject({
    /** Base URL, e.g. https://registry.example:5000; default https://<host>. */
    endpoint: z
      .string()
      .refine((s) => /^https?:\/\/[^/]+\/?$/.test(s), "must be http(s)://host[:port]")
      .optional(),
    /** PEM CA bundle that signs the registry's certificate. */
    ca: pem("certificate").optional(),
    username: z.string().min(1).optional(),
    /** Secret: redacted by GetConfiguration, never logged. */
    password: z.string().optional(),
  })
  .refine((r) => r.password === undefined || r.username !== undefined, { message: "password needs a username", path: ["password"] });

/** Registries by host[:port] as it appears in image references. */
export const RegistriesSchema = z.record(
  z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, "must be a registry host[:port] as written in image references"),
  RegistrySchema,
);

export type WorkloadConfig = z.infer<typeof WorkloadSchema>;
export type RegistryConfig = z.infer<typeof RegistrySchema>;
