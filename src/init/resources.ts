import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { ResourceKind, resourceKindToJSON, type GetResourcesResponse } from "../api/index.js";
import { CairnError } from "../errors/index.js";
import type { MachineConfig } from "../machinery/config/index.js";
import type { BootIdentity, Platform } from "../platform/index.js";
import type { ConfigControllers, ControllerName } from "./config-controllers.js";
import { readSlotEntry } from "./kernel-args.js";

/** Which controllers stand behind each kind. */
const CONTROLLERS_OF: Record<Exclude<ResourceKind, ResourceKind.RESOURCE_KIND_UNSPECIFIED | ResourceKind.UNRECOGNIZED>, ControllerName[]> = {
  [ResourceKind.RESOURCE_KIND_HOSTNAME]: ["hostname"],
  [ResourceKind.RESOURCE_KIND_LINKS]: ["network"],
  [ResourceKind.RESOURCE_KIND_ADDRESSES]: ["network"],
  [ResourceKind.RESOURCE_KIND_ROUTES]: ["network"],
  [ResourceKind.RESOURCE_KIND_RESOLVERS]: ["network"],
  [ResourceKind.RESOURCE_KIND_TIME]: ["time"],
  [ResourceKind.RESOURCE_KIND_SYSCTLS]: ["sysctls"],
  [ResourceKind.RESOURCE_KIND_FILES]: ["files"],
  [ResourceKind.RESOURCE_KIND_KERNEL]: ["kernel", "modules"],
};

export interface ResourceSources {
  readonly platform: Platform;
  readonly identity: BootIdentity;
  readonly controllers: ConfigControllers;
  /** The active config; undefined in maintenance mode. */
  config(): MachineConfig | undefined;
}

const empty = (kind: ResourceKind): GetResourcesResponse => ({
  kind,
  controllers: [],
  hostname: undefined,
  links: [],
  addresses: [],
  routes: [],
  resolvers: undefined,
  time: undefined,
  sysctls: [],
  files: [],
  kernel: undefined,
});

/**
 * One kind of observed node state, read back from the kernel (or the disk)
 * at the time of the call, next to what the config asks for and the
 * controllers' last errors. Nothing here is a cached copy of the config.
 */
export async function readResources(kind: ResourceKind, src: ResourceSources): Promise<GetResourcesResponse> {
  const names = CONTROLLERS_OF[kind as keyof typeof CONTROLLERS_OF];
  if (!names) {
    throw new CairnError("INVALID_ARGUMENT", `unknown resource kind ${resourceKindToJSON(kind)}`, { details: [{ path: "kind", message: "one of hostname, links, addresses, routes, resolvers, time, sysctls, files, kernel" }] });
  }
  const { platform } = src;
  const cfg = src.config();
  const out = empty(kind);
  out.controllers = src.controllers.states(names);
  const ifaces = cfg?.machine.network.interfaces ?? [];
  switch (kind) {
    case ResourceKind.RESOURCE_KIND_HOSTNAME:
      out.hostname = { hostname: await platform.hostname(), configured: cfg?.machine.hostname ?? "" };
      break;
    case ResourceKind.RESOURCE_KIND_LINKS:
      out.links = (await platform.links()).map((l) => {
        const spec = ifaces.find((i) => i.name === l.name || (i.mac !== undefined && i.mac.toLowerCase() === l.mac.toLowerCase()));
        return { name: l.name, mac: l.mac, up: l.up, mtu: l.mtu, configured: spec !== undefined, dhcp: spec?.dhcp ?? false };
      });
      break;
    case ResourceKind.RESOURCE_KIND_ADDRESSES: {
      const leases = platform.dhcpLeases();
      out.addresses = (await platform.links()).flatMap((l) => {
        const spec = ifaces.find((i) => i.name === l.name || (i.mac !== undefined && i.mac.toLowerCase() === l.mac.toLowerCase()));
        return l.addresses.map((address) => {
          const lease = leases.find((x) => x.link === l.name && x.address === address);
          const origin = spec?.addresses.includes(address) ? "static" : lease ? "dhcp" : "other";
          return {
            link: l.name,
            address,
            family: address.includes(":") ? 6 : 4,
            origin,
            leaseRenewUnixMs: lease?.renewUnixMs ?? 0,
            leaseRebindUnixMs: lease?.rebindUnixMs ?? 0,
            leaseServer: lease?.server ?? "",
          };
        });
      });
      break;
    }
    case ResourceKind.RESOURCE_KIND_ROUTES:
      out.routes = (await platform.routes()).map((r) => ({ ...r }));
      break;
    case ResourceKind.RESOURCE_KIND_RESOLVERS: {
      const r = await platform.resolvers();
      out.resolvers = { nameservers: [...r.nameservers], search: [...r.search] };
      break;
    }
    case ResourceKind.RESOURCE_KIND_TIME: {
      const t = src.controllers.time.status;
      out.time = { ...t, servers: [...t.servers], nowUnixMs: Date.now() };
      break;
    }
    case ResourceKind.RESOURCE_KIND_SYSCTLS: {
      const configured = cfg?.machine.sysctls ?? {};
      const values = await platform.readSysctls(Object.keys(configured));
      out.sysctls = Object.entries(configured).map(([name, want]) => ({ name, configured: want, value: values[name] ?? "", present: values[name] !== undefined }));
      break;
    }
    case ResourceKind.RESOURCE_KIND_FILES:
      out.files = await Promise.all((cfg?.machine.files ?? []).map(async (f) => ({ path: f.path, op: f.op, ...(await fileFacts(platform.hostPath(f.path))) })));
      break;
    case ResourceKind.RESOURCE_KIND_KERNEL: {
      const k = await platform.kernel();
      const entry = await readSlotEntry(platform.bootStore, src.identity.slot).catch(() => undefined);
      out.kernel = {
        cmdline: k.cmdline,
        configuredArgs: [...(cfg?.machine.kernel.args ?? [])],
        bootEntryOptions: entry?.options ?? "",
        bootEntry: entry?.file ?? "",
        loadedModules: [...k.modules],
        configuredModules: (cfg?.machine.kernel.modules ?? []).map((m) => m.name),
      };
      break;
    }
  }
  return out;
}

/** Mode, size and SHA-256 of a file as it is on disk now. */
async function fileFacts(path: string): Promise<{ exists: boolean; mode: number; size: number; sha256: string }> {
  try {
    const st = await stat(path);
    const sha256 = createHash("sha256").update(await readFile(path)).digest("hex");
    return { exists: true, mode: st.mode & 0o7777, size: st.size, sha256 };
  } catch {
    return { exists: false, mode: 0, size: 0, sha256: "" };
  }
}
