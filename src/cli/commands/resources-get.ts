import type { Command } from "commander";
import { ResourceKind, type GetResourcesResponse } from "../../api/index.js";
import { onNodes } from "../context.js";
import { structured, table } from "../output.js";

const KINDS: Record<string, ResourceKind> = {
  hostname: ResourceKind.RESOURCE_KIND_HOSTNAME,
  links: ResourceKind.RESOURCE_KIND_LINKS,
  addresses: ResourceKind.RESOURCE_KIND_ADDRESSES,
  routes: ResourceKind.RESOURCE_KIND_ROUTES,
  resolvers: ResourceKind.RESOURCE_KIND_RESOLVERS,
  time: ResourceKind.RESOURCE_KIND_TIME,
  sysctls: ResourceKind.RESOURCE_KIND_SYSCTLS,
  files: ResourceKind.RESOURCE_KIND_FILES,
  kernel: ResourceKind.RESOURCE_KIND_KERNEL,
};

const ms = (t: number) => (t ? new Date(t).toISOString() : "-");

/** The table view of one kind: a header and rows, node first. */
function rows(kind: string, node: string, r: GetResourcesResponse): { head: string[]; rows: (string | number | boolean)[][] } {
  switch (kind) {
    case "hostname":
      return { head: ["NODE", "HOSTNAME", "CONFIGURED"], rows: [[node, r.hostname?.hostname ?? "", r.hostname?.configured || "-"]] };
    case "links":
      return { head: ["NODE", "LINK", "MAC", "UP", "MTU", "CONFIGURED", "DHCP"], rows: r.links.map((l) => [node, l.name, l.mac, l.up, l.mtu, l.configured, l.dhcp]) };
    case "addresses":
      return { head: ["NODE", "LINK", "ADDRESS", "ORIGIN", "RENEW AT"], rows: r.addresses.map((a) => [node, a.link, a.address, a.origin, a.origin === "dhcp" ? ms(a.leaseRenewUnixMs) : "-"]) };
    case "routes":
      return { head: ["NODE", "DESTINATION", "GATEWAY", "LINK", "METRIC", "PROTOCOL", "SCOPE"], rows: r.routes.map((x) => [node, x.destination, x.gateway || "-", x.link, x.metric, x.protocol, x.scope]) };
    case "resolvers":
      return { head: ["NODE", "NAMESERVERS", "SEARCH"], rows: [[node, r.resolvers?.nameservers.join(",") || "-", r.resolvers?.search.join(",") || "-"]] };
    case "time": {
      const t = r.time;
      return { head: ["NODE", "SYNCED", "OFFSET", "SERVER", "LAST SYNC", "NODE CLOCK"], rows: [[node, t?.synced ?? false, `${(t?.offsetSeconds ?? 0).toFixed(3)}s`, t?.server || "-", ms(t?.lastSyncUnixMs ?? 0), ms(t?.nowUnixMs ?? 0)]] };
    }
    case "sysctls":
      return { head: ["NODE", "SYSCTL", "VALUE", "CONFIGURED"], rows: r.sysctls.map((s) => [node, s.name, s.present ? s.value : "(missing)", s.configured]) };
    case "files":
      return { head: ["NODE", "PATH", "MODE", "SIZE", "SHA256"], rows: r.files.map((f) => [node, f.path, f.exists ? `0${f.mode.toString(8)}` : "(missing)", f.size, f.sha256.slice(0, 16)]) };
    default: {
      const k = r.kernel;
      return {
        head: ["NODE", "FIELD", "VALUE"],
        rows: [
          [node, "cmdline (running)", k?.cmdline ?? ""],
          [node, `boot entry ${k?.bootEntry ?? ""} (next boot)`, k?.bootEntryOptions ?? ""],
          [node, "configured args", k?.configuredArgs.join(" ") || "-"],
          [node, "configured modules", k?.configuredModules.join(",") || "-"],
          [node, "loaded modules", k?.loadedModules.join(",") || "-"],
        ],
      };
    }
  }
}

/** get hostname|links|addresses|routes|resolvers|time|sysctls|files|kernel: observed state read back from each node. */
export function registerResourcesGet(program: Command): void {
  const get = program.commands.find((c) => c.name() === "get") ?? program.command("get").description("read node resources");
  for (const kind of Object.keys(KINDS)) {
    get
      .command(kind)
      .description(`show the node's ${kind} as the kernel reports them, with controller errors`)
      .action(async (_f, cmd: Command) => {
        await onNodes(
          cmd,
          (c) => c.getResources(KINDS[kind] as ResourceKind),
          (ok, g) => {
            if (g.format !== "table") {
              const pick = (r: GetResourcesResponse) => {
                const field = kind === "resolvers" || kind === "time" || kind === "kernel" || kind === "hostname" ? r[kind as "time"] : r[kind as "links"];
                return { [kind]: field, controllers: r.controllers };
              };
              return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...pick(r.value) })))}\n`);
            }
            const all = ok.map(({ node, value }) => rows(kind, node, value));
            process.stdout.write(`${table(all[0]?.head ?? [], all.flatMap((x) => x.rows))}\n`);
            for (const { node, value } of ok) {
              for (const c of value.controllers) if (c.lastError) process.stdout.write(`${node}: controller ${c.name}: last error at ${ms(c.lastErrorUnixMs)}: ${c.lastError}\n`);
            }
          },
        );
      });
  }
}
