import type { Command } from "commander";
import { ServiceAction, slotStateToJSON, type UpdaterStatus } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { onNodes } from "../context.js";
import { structured, table } from "../output.js";

const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;

/** The unattended updater in one cell: off, or its phase with the staged/available release and a held reboot slot. */
function updaterCell(u: UpdaterStatus | undefined): string {
  if (!u?.enabled) return "off";
  const what = u.stagedVersion ? `${u.stagedVersion} staged` : u.availableVersion ? `${u.availableVersion} available` : "";
  const extra = [what, u.holdingLock ? "holding slot" : "", u.lastError ? "error" : ""].filter(Boolean).join(", ");
  return extra ? `${u.phase} (${extra})` : u.phase;
}

/** version, stats, services, service: read-only views (service control needs operator). */
export function registerNodeInfo(program: Command): void {
  program
    .command("version")
    .description("show what each node runs: OS version, boot id, slot")
    .option("--insecure", "ask a node in maintenance mode (no client certificate)")
    .action(async (flags: { insecure?: boolean }, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.version(),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...r.value, slots: r.value.slots.map((s) => ({ ...s, state: slotStateToJSON(s.state) })) })))}\n`);
          const rows = ok.map(({ node, value: v }) => [node, v.osVersion, v.bootedSlot, v.bootId, v.maintenance ? "maintenance" : "configured", v.hostname || "-", `${Math.round(v.uptimeSeconds)}s`, updaterCell(v.updater)]);
          process.stdout.write(`${table(["NODE", "VERSION", "SLOT", "BOOT ID", "MODE", "HOSTNAME", "UPTIME", "UPDATES"], rows)}\n`);
        },
        { insecure: flags.insecure ?? false },
      );
    });

  program
    .command("stats")
    .description("memory, cpu, load, mounts and network of each node")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.stats(),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...r.value })))}\n`);
          for (const { node, value: s } of ok) {
            const m = s.memory;
            process.stdout.write(`${node}: memory ${mib((m?.total ?? 0) - (m?.available ?? 0))} used of ${mib(m?.total ?? 0)}, init RSS ${mib(m?.initRss ?? 0)} (${s.initOpenFds} fds), load ${s.load?.load1.toFixed(2)}, cpus ${s.cpu?.count}\n`);
            process.stdout.write(`${table(["MOUNT", "SOURCE", "TYPE", "RO", "SIZE", "FREE"], s.mounts.map((x) => [x.target, x.source, x.fstype, x.readOnly, mib(x.sizeBytes), mib(x.freeBytes)]))}\n`);
          }
        },
      );
    });

  program
    .command("services")
    .description("list the services each node supervises")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.serviceList(),
        (ok, g) => {
          if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, services: r.value.services })))}\n`);
          const rows = ok.flatMap(({ node, value }) => value.services.map((s) => [node, s.id, s.state, s.health, s.message]));
          process.stdout.write(`${table(["NODE", "SERVICE", "STATE", "HEALTH", "MESSAGE"], rows)}\n`);
        },
      );
    });

  const actions: Record<string, ServiceAction> = { start: ServiceAction.SERVICE_ACTION_START, stop: ServiceAction.SERVICE_ACTION_STOP, restart: ServiceAction.SERVICE_ACTION_RESTART };
  program
    .command("service <id> <action>")
    .description("start, stop or restart a service")
    .action(async (id: string, action: string, _f, cmd: Command) => {
      const a = actions[action];
      if (a === undefined) throw new CairnError("INVALID_ARGUMENT", `action "${action}" is not one of start, stop, restart`);
      await onNodes(
        cmd,
        (c) => c.serviceControl(id, a),
        (ok) => ok.forEach(({ node, value }) => process.stdout.write(`${node}: ${value.service?.id} ${value.service?.state}\n`)),
      );
    });
}
