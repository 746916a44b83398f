import { z } from "zod";

/**
 * machine.update: where releases come from and when a node may install and
 * reboot into them on its own (issue 8). Nothing happens unattended unless
 * `repository` is set; publicKeys also serve uploaded bundles (Upgrade RPC).
 */

/** Day names as Zincati and locksmith write them; Sun = 0 as in Date.getUTCDay(). */
export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const REBOOT_STRATEGIES = ["immediate", "window", "coordinated", "off"] as const;
export type RebootStrategy = (typeof REBOOT_STRATEGIES)[number];

const pem = (what: string) => z.string().regex(/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/, `must be a PEM-encoded ${what}`);

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

export const MaintenanceWindowSchema = z.strictObject({
  /** Days the window starts on (UTC). */
  days: z
    .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(", ")}` }))
    .min(1, "must name at least one day")
    .refine((d) => new Set(d).size === d.length, "lists a day twice"),
  /** Start time, HH:MM in UTC (the window may run past midnight and past Saturday). */
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h, UTC), e.g. 23:30"),
  /** Length in minutes, at most a week. */
  lengthMinutes: z.number().int().min(1).max(7 * 24 * 60),
});

export const EtcdCoordinationSchema = z
  .strictObject({
    /** Client URLs of the etcd cluster, e.g. https://10.0.0.5:2379. */
    endpoints: z.array(httpUrl).min(1, "must list at least one endpoint"),
    /** CA that signed the etcd server certificates (https endpoints). */
    ca: pem("certificate").optional(),
    /** Client certificate and key, when etcd requires client auth. */
    cert: pem("certificate").optional(),
    key: pem("private key").optional(),
    /** Key prefix of the reboot semaphore; nodes sharing it share the limit. */
    prefix: z.string().regex(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, "must be an absolute key path like /cairn/fleet").default("/cairn/fleet"),
  })
  .refine((e) => (e.cert === undefined) === (e.key === undefined), { message: "cert and key go together", path: ["key"] });

export const FleetLockSchema = z.strictObject({
  /** Base URL of a FleetLock server (Zincati's protocol): /v1/pre-reboot and /v1/steady-state below it. */
  url: httpUrl,
  /** Reboot group, as in Zincati. */
  group: z.string().regex(/^[a-zA-Z0-9.-]+$/, "must match ^[a-zA-Z0-9.-]+$").default("default"),
});

export const RebootPolicySchema = z.strictObject({
  /**
   * immediate: reboot once staged; window: only inside a maintenance window;
   * coordinated: inside a window if any are set, and only holding a slot of
   * the fleet semaphore; off: stage and wait for an operator.
   */
  strategy: z.enum(REBOOT_STRATEGIES, { error: `must be one of ${REBOOT_STRATEGIES.join(", ")}` }).default("immediate"),
  /** Most nodes of the fleet rebooting for an update at once (etcd semaphore size). */
  maxConcurrent: z.number().int().min(1).max(10_000).default(1),
  /** Lease of a semaphore slot: a node that dies holding it frees it after this long. Must cover a reboot. */
  lockTTLSeconds: z.number().int().min(5).max(24 * 3600).default(900),
});

const REBOOT_DEFAULT = { strategy: "immediate", maxConcurrent: 1, lockTTLSeconds: 900 } as const;

export const UpdateSchema = z
  .strictObject({
    /** Ed25519 release public keys (PEM) trusted for bundles and channel metadata, besides the image's own. */
    publicKeys: z.array(pem("public key")).default([]),
    /** Release channel to follow, e.g. stable. */
    channel: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a lowercase name like stable").optional(),
    /** Release repository base URL (channels/<channel>.json below it); unset = no unattended updates. */
    repository: httpUrl.optional(),
    /** Seconds between channel checks. */
    checkIntervalSeconds: z.number().int().min(5).max(7 * 24 * 3600).default(3600),
    /** Reboot windows (UTC); empty = any time. */
    windows: z.array(MaintenanceWindowSchema).default([]),
    /** Spread of the fleet: a node waits up to this long (seeded by its identity) after a release appears. */
    jitterSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(0),
    reboot: RebootPolicySchema.default(REBOOT_DEFAULT),
    /** How nodes agree on who reboots: an etcd semaphore, or a FleetLock server. */
    coordination: z
      .strictObject({ etcd: EtcdCoordinationSchema.optional(), fleetLock: FleetLockSchema.optional() })
      .refine((c) => !(c.etcd && c.fleetLock), { message: "set one of etcd or fleetLock, not both" })
      .optional(),
  })
  .superRefine((u, ctx) => {
    if (u.repository !== undefined && u.channel === undefined) ctx.addIssue({ code: "custom", path: ["channel"], message: "required when repository is set" });
    if (u.reboot.strategy === "window" && u.windows.length === 0) ctx.addIssue({ code: "custom", path: ["reboot", "strategy"], message: "window needs at least one entry in windows" });
    if (u.reboot.strategy === "coordinated" && !u.coordination?.etcd && !u.coordination?.fleetLock) {
      ctx.addIssue({ code: "custom", path: ["reboot", "strategy"], message: "coordinated needs coordination.etcd or coordination.fleetLock" });
    }
  });

export const UPDATE_DEFAULT = { publicKeys: [], checkIntervalSeconds: 3600, windows: [], jitterSeconds: 0, reboot: REBOOT_DEFAULT } as const;

export type UpdateConfig = z.infer<typeof UpdateSchema>;
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;
