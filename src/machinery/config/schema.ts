import { z } from "zod";
import { UPDATE_DEFAULT, UpdateSchema } from "./update-schema.js";
import { RegistriesSchema, WorkloadSchema } from "./workloads-schema.js";

/**
 * The MachineConfig document, version cairn.dev/v1alpha1. Every object is
 * strict: an unknown key is an error, never silently dropped, because a
 * typo'd key in a declarative OS config would otherwise become a no-op.
 */
export const API_VERSION = "cairn.dev/v1alpha1";
export const KIND = "MachineConfig";

const pem = (what: string) =>
  z.string().regex(/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/, `must be a PEM-encoded ${what}`);

/** An IPv4 or IPv6 address with a prefix length, e.g. 10.5.0.2/24. */
const cidr = z.string().refine((s) => /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/.test(s), {
  message: "must be an address with a prefix length, e.g. 10.5.0.2/24",
});
const ip = z.string().refine((s) => /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(s), { message: "must be an IP address" });
const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, "must be a MAC address like 52:54:00:12:34:56");

/**
 * Rejects two list items with the same identity (see keyed-arrays.ts):
 * patches merge and diffs compare these lists by key, so a duplicate key
 * would make "which item?" ambiguous. The issue points at the later item.
 */
const uniqueBy =
  (keys: readonly string[]) =>
  (items: readonly Record<string, unknown>[], ctx: z.core.$RefinementCtx<readonly Record<string, unknown>[]>) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = keys.find((k) => item[k] !== undefined);
      if (key === undefined) return;
      const id = `${key}=${String(item[key])}`;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else ctx.addIssue({ code: "custom", path: [i, key], message: `duplicate ${key} ${JSON.stringify(item[key])}, also at [${first}]` });
    });
  };

export const RouteSchema = z.strictObject({
  /** Destination network; "0.0.0.0/0" for the default route. */
  network: cidr,
  gateway: ip.optional(),
  metric: z.number().int().min(0).max(65535).optional(),
});

export const InterfaceSchema = z
  .strictObject({
    /** Kernel name, e.g. "eth0". One of name or mac selects the link. */
    name: z.string().min(1).max(15).optional(),
    /** Hardware address selecting the link when names are not stable. */
    mac: mac.optional(),
    /** false sets the link administratively down; absent means up. */
    up: z.boolean().optional(),
    dhcp: z.boolean().default(false),
    addresses: z.array(cidr).default([]),
    routes: z.array(RouteSchema).default([]),
    mtu: z.number().int().min(576).max(9216).optional(),
  })
  .refine((i) => i.name !== undefined || i.mac !== undefined, { message: "needs a name or a mac" });

export const NetworkSchema = z.strictObject({
  interfaces: z.array(InterfaceSchema).superRefine(uniqueBy(["name", "mac"])).default([]),
  nameservers: z.array(ip).default([]),
});

export const FileSchema = z.strictObject({
  /** Absolute path inside a writable area (/var or /etc overlays, see files controller). */
  path: z.string().regex(/^\/(var|etc|run)\//, "must be an absolute path below /var, /etc or /run"),
  content: z.string(),
  /** Octal permission bits, e.g. 0o644 (YAML: 0644 or 420). */
  mode: z.number().int().min(0).max(0o7777).default(0o644),
  op: z.enum(["create", "overwrite", "append"]).default("create"),
});

export const LoggingDestinationSchema = z.strictObject({
  /** udp://host:port or tcp://host:port (IPv6 in brackets); the node sends every log line there. */
  endpoint: z
    .string()
    .regex(/^(udp|tcp):\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]]+):\d{1,5}$/, { message: "must be udp://host:port or tcp://host:port", abort: true })
    .refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) >= 1 && Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, "port must be 1-65535"),
  /** json_lines: one JSON object per line (time, node, service, level, msg, fields). */
  format: z.enum(["json_lines"]).default("json_lines"),
});

export const MachineSchema = z.strictObject({
  hostname: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-', at most 63")
    .optional(),
  network: NetworkSchema.default({ interfaces: [], nameservers: [] }),
  time: z.strictObject({ servers: z.array(z.string().min(1)).default([]) }).default({ servers: [] }),
  /** Kernel parameters by dotted name, e.g. net.ipv4.ip_forward: "1". */
  sysctls: z.record(z.string().regex(/^[a-z0-9_.-]+$/, "must be a sysctl name like net.ipv4.ip_forward"), z.string()).default({}),
  files: z.array(FileSchema).superRefine(uniqueBy(["path"])).default([]),
  /** Environment for services started by the node. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string()).default({}),
  kernel: z
    .strictObject({
      /** Extra kernel command-line arguments (take effect at the next boot). */
      args: z
        .array(
          z
            .string()
            .regex(/^[^\s"]+$/, "must be one argument: no spaces, tabs, newlines or quotes")
            .refine((a) => !/^cairn\.slot=/.test(a), { message: "cairn.slot is set by the boot entry, not by config" }),
        )
        .default([]),
      /** Extra kernel modules to load at boot. */
      modules: z
        .array(z.strictObject({ name: z.string().min(1) }))
        .superRefine(uniqueBy(["name"]))
        .default([]),
    })
    .default({ args: [], modules: [] }),
  install: z.strictObject({ disk: z.string().regex(/^\/dev\//, "must be a /dev path").default("/dev/vda") }).default({ disk: "/dev/vda" }),
  update: UpdateSchema.default({ ...UPDATE_DEFAULT, windows: [], publicKeys: [], reboot: { ...UPDATE_DEFAULT.reboot } }),
  logging: z
    .strictObject({ destinations: z.array(LoggingDestinationSchema).default([]) })
    .default({ destinations: [] }),
  api: z
    .strictObject({
      /** Extra DNS names and IPs for the node's serving certificate. */
      certSANs: z.array(z.string().min(1)).default([]),
      /** TCP port the machine API listens on. */
      port: z.number().int().min(1).max(65535).default(50000),
    })
    .default({ certSANs: [], port: 50000 }),
  /** Containers the node runs through containerd (see docs/workloads.md). */
  workloads: z.array(WorkloadSchema).superRefine(uniqueBy(["name"])).default([]),
  /** How to reach image registries, by host[:port]. */
  registries: RegistriesSchema.default({}),
  /** The OS CA: clients are verified against cert; key lets the node mint its serving cert. */
  ca: z.strictObject({ cert: pem("certificate"), key: pem("private key").optional() }),
});

export const ClusterSchema = z.strictObject({
  /** The cluster/fleet this node belongs to. */
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a DNS label"),
});

export const MachineConfigSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  machine: MachineSchema,
  cluster: ClusterSchema,
});

/** A validated machine config, with defaults filled in. */
export type MachineConfig = z.infer<typeof MachineConfigSchema>;
/** What a user writes: defaults may be left out. */
export type MachineConfigInput = z.input<typeof MachineConfigSchema>;

/** Field paths that hold secrets: redacted by GetConfiguration, never logged. */
export const SECRET_PATHS: readonly string[] = [
  "machine.ca.key",
  "machine.update.coordination.etcd.key",
  "machine.registries.*.password",
];
