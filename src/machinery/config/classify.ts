import type { ConfigDelta } from "./diff.js";
import { isUnderPath } from "./field-path.js";

/** A config change with whether it can only take effect after a reboot. */
export interface ClassifiedDelta extends ConfigDelta {
  needsReboot: boolean;
  /** The rule that decided, e.g. "machine.kernel: the kernel command line is read at boot". */
  reason: string;
}

interface Rule {
  readonly prefix: string;
  readonly needsReboot: boolean;
  readonly why: string;
}

/**
 * THE live-vs-reboot policy. The most specific (longest) matching prefix
 * wins; a path no rule covers needs a reboot, because applying something
 * live that the node only reads at boot would silently do nothing until
 * the next reboot, while rebooting for a live-capable change only costs time.
 * A new schema field should get a rule here; the classify test checks that
 * every field of the sample config is covered.
 */
export const RELOAD_RULES: readonly Rule[] = [
  // Live: a controller re-applies these on every config change.
  { prefix: "machine.hostname", needsReboot: false, why: "sethostname is applied live" },
  { prefix: "machine.network", needsReboot: false, why: "links, addresses and routes are reconciled live via netlink" },
  { prefix: "machine.time", needsReboot: false, why: "the SNTP client is restarted with the new servers" },
  { prefix: "machine.sysctls", needsReboot: false, why: "sysctls are written to /proc/sys live" },
  { prefix: "machine.files", needsReboot: false, why: "files are written to the writable overlays live" },
  { prefix: "machine.env", needsReboot: false, why: "machined's environment is updated live; services it starts inherit it" },
  { prefix: "machine.kernel.modules", needsReboot: false, why: "modules are loaded live (finit_module); a module dropped from the list stays loaded until the next boot" },
  { prefix: "machine.logging", needsReboot: false, why: "log senders are reconfigured live" },
  { prefix: "machine.api.certSANs", needsReboot: false, why: "the serving certificate is re-minted and hot-swapped" },
  { prefix: "machine.update", needsReboot: false, why: "update keys and channel are read at the next upgrade" },
  { prefix: "machine.workloads", needsReboot: false, why: "the workload controller reconciles containers live" },
  { prefix: "machine.registries", needsReboot: false, why: "registry access is read at the next pull" },
  { prefix: "cluster.name", needsReboot: false, why: "the cluster name is metadata only" },
  // Reboot: read once at boot, or changing them live would cut the node off.
  { prefix: "machine.kernel", needsReboot: true, why: "kernel args are written to the boot entry and read by the kernel at the next boot" },
  { prefix: "machine.install", needsReboot: true, why: "the install disk is used by the installer at boot" },
  { prefix: "machine.ca", needsReboot: true, why: "the trust root changes: clients and the serving cert must switch together" },
  { prefix: "machine.api.port", needsReboot: true, why: "the API listener binds its port at start" },
  { prefix: "apiVersion", needsReboot: true, why: "a new document version may change what every field means" },
  { prefix: "kind", needsReboot: true, why: "a new document version may change what every field means" },
];

const DEFAULT_REASON = "no rule for this path: reboot to be safe";

/** Adds needsReboot (and the reason) to each delta using RELOAD_RULES. */
export function classifyDeltas(deltas: readonly ConfigDelta[]): ClassifiedDelta[] {
  return deltas.map((d) => {
    const rule = ruleFor(d.path);
    return {
      path: d.path,
      op: d.op,
      needsReboot: rule?.needsReboot ?? true,
      reason: rule ? `${rule.prefix}: ${rule.why}` : DEFAULT_REASON,
    };
  });
}

/** The paths that force a reboot, deduplicated, in order: what to tell a user who asked for a live apply. */
export function rebootRequiredPaths(classified: readonly ClassifiedDelta[]): string[] {
  return [...new Set(classified.filter((c) => c.needsReboot).map((c) => c.path))];
}

function ruleFor(path: string): Rule | undefined {
  let best: Rule | undefined;
  for (const rule of RELOAD_RULES) {
    if (isUnderPath(path, rule.prefix) && (best === undefined || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return best;
}
