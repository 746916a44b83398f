/**
 * Health checks that gate the blessing of a trial boot. Each answers ok,
 * waiting (not ready yet: asked again every second until the deadline) or
 * failed (definitive). A trial boot is blessed only when every check is ok;
 * one failed check, or one still waiting at the deadline, makes the boot
 * unhealthy: machined reboots it, burning a try, so systemd-boot's counter
 * runs out and the previous slot boots again.
 */
export type HealthStatus = "ok" | "waiting" | "failed";

export interface HealthResult {
  readonly status: HealthStatus;
  readonly message: string;
}

/** One named check; `check` must not throw (a throw counts as failed). */
export interface HealthCheck {
  readonly name: string;
  readonly check: () => HealthResult | Promise<HealthResult>;
}

/** What one round of checks found. */
export interface HealthVerdict {
  /** ok: every check passed; waiting: none failed but some are not ready; failed: at least one failed. */
  readonly status: HealthStatus;
  /** The checks that are not ok, "name: message". */
  readonly problems: readonly string[];
}

/** Runs every check once (in order) and combines the results. */
export async function runHealthChecks(checks: readonly HealthCheck[]): Promise<HealthVerdict> {
  const problems: string[] = [];
  let failed = false;
  let waiting = false;
  for (const c of checks) {
    let r: HealthResult;
    try {
      r = await c.check();
    } catch (e) {
      r = { status: "failed", message: `check threw: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (r.status === "ok") continue;
    if (r.status === "failed") failed = true;
    else waiting = true;
    problems.push(`${c.name}: ${r.message}`);
  }
  return { status: failed ? "failed" : waiting ? "waiting" : "ok", problems };
}

/** Turns a condition into a check that waits (never fails) until it holds. */
export function waitFor(name: string, holds: () => boolean, notYet: string): HealthCheck {
  return { name, check: () => (holds() ? { status: "ok", message: "" } : { status: "waiting", message: notYet }) };
}
