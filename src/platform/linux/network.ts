import { readdir, readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import type { DhcpLeaseStatus, InterfaceSpec, LinkStatus, NetworkSpec } from "../platform.js";
import { acquireLease, renewLease } from "./dhcp.js";
import { leasePlan, type DhcpLease } from "./dhcp-packet.js";
import { InetControl } from "./inet-ioctl.js";
import { readLinks } from "./net-links.js";
import { renderResolvConf, writeResolvConf } from "./resolv-conf.js";
import { RouteNetlink } from "./rtnetlink.js";
import type { RouteRequest } from "./rtnetlink-codec.js";

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Metric of the default route a DHCP lease installs (below static routes' usual 0..1023 it would win). */
const DHCP_ROUTE_METRIC = 1024;

/** Finds the link an interface spec means: by name, else by MAC in /sys/class/net. */
export async function resolveInterfaceName(spec: InterfaceSpec, sysNet = "/sys/class/net"): Promise<string> {
  if (spec.name) return spec.name;
  if (!spec.mac) throw new CairnError("INVALID_ARGUMENT", "network interface: needs a name or a mac");
  const want = spec.mac.toLowerCase();
  for (const n of await readdir(sysNet).catch(() => [] as string[])) {
    const mac = (await readFile(`${sysNet}/${n}/address`, "utf8").catch(() => "")).trim().toLowerCase();
    if (mac === want) return n;
  }
  throw new CairnError("NOT_FOUND", `network interface: no link with MAC ${spec.mac}`);
}

async function ifindexOf(name: string): Promise<number> {
  try {
    return Number((await readFile(`/sys/class/net/${name}/ifindex`, "utf8")).trim());
  } catch {
    throw new CairnError("NOT_FOUND", `network interface ${name}: no such link`);
  }
}

const routeKey = (r: RouteRequest): string => `${r.destination}|${r.gateway ?? ""}|${r.metric ?? ""}`;

/** A lease being held on one link, with its renewal timer. */
interface HeldLease {
  lease: DhcpLease;
  /** Date.now() when the lease was granted (or last extended). */
  grantedAt: number;
  phase: DhcpLeaseStatus["phase"];
  timer: NodeJS.Timeout | undefined;
}

/** What Cairn added to one link, so a later config can take exactly that away again. */
interface ManagedLink {
  ifindex: number;
  addresses: Set<string>;
  routes: Map<string, RouteRequest>;
  dhcp: HeldLease | undefined;
}

/**
 * Reconciles links with a NetworkSpec: MTU, up/down, static addresses and
 * routes (rtnetlink), a DHCPv4 lease per link with renewal at T1, rebinding
 * at T2 and rediscovery at expiry, and resolv.conf. It remembers what it
 * added, so an address or route dropped from the config is removed live,
 * and a link dropped from the config loses what Cairn put on it (the link
 * itself stays as it is). Links are configured in parallel: one waiting
 * for DHCP does not hold up the others.
 */
export class NetworkConfigurator {
  readonly #links = new Map<string, ManagedLink>();
  readonly #opts: { resolvConfPath: string; dhcpTimeoutMs: number };
  #resolvText: string | undefined;
  #nameservers: readonly string[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #log: Logger | undefined;

  constructor(opts: { resolvConfPath: string; dhcpTimeoutMs: number }) {
    this.#opts = opts;
  }

  /** Applies `spec`; calls are serialised. */
  configure(spec: NetworkSpec, log: Logger): Promise<LinkStatus[]> {
    const run = this.#queue.then(() => this.#configure(spec, log));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The leases held now, for the addresses and links status. */
  leases(): DhcpLeaseStatus[] {
    return [...this.#links].flatMap(([link, m]) =>
      m.dhcp
        ? [{ link, address: `${m.dhcp.lease.address}/${m.dhcp.lease.prefixLength}`, server: m.dhcp.lease.serverId, router: m.dhcp.lease.routers[0] ?? "", leaseSeconds: m.dhcp.lease.leaseSeconds, grantedUnixMs: m.dhcp.grantedAt, renewUnixMs: m.dhcp.grantedAt + m.dhcp.lease.renewSeconds * 1000, rebindUnixMs: m.dhcp.grantedAt + m.dhcp.lease.rebindSeconds * 1000, phase: m.dhcp.phase }]
        : [],
    );
  }

  /** Cancels lease renewals. Idempotent. */
  close(): void {
    for (const m of this.#links.values()) if (m.dhcp?.timer) clearTimeout(m.dhcp.timer);
  }

  async #configure(spec: NetworkSpec, log: Logger): Promise<LinkStatus[]> {
    this.#log = log;
    const wanted = new Map<string, InterfaceSpec>();
    const failures: string[] = [];
    for (const iface of spec.interfaces) {
      try {
        wanted.set(await resolveInterfaceName(iface), iface);
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    for (const [name, m] of this.#links) {
      if (!wanted.has(name)) this.#unmanage(name, m, log);
    }
    const results = await Promise.allSettled([...wanted].map(([name, iface]) => this.#reconcile(name, iface, log)));
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      const name = [...wanted.keys()][i] ?? "?";
      // One broken link must not leave the others unconfigured.
      log.error({ err: r.reason, ifname: name }, "interface configuration failed");
      failures.push(`${name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
    });
    this.#nameservers = spec.nameservers;
    await this.#writeResolvers();
    if (failures.length) throw new CairnError("UNAVAILABLE", `configure network: ${failures.join("; ")}`);
    return readLinks();
  }

  async #reconcile(name: string, iface: InterfaceSpec, log: Logger): Promise<void> {
    const ifindex = await ifindexOf(name);
    let m = this.#links.get(name);
    if (!m || m.ifindex !== ifindex) {
      m = { ifindex, addresses: new Set(), routes: new Map(), dhcp: m?.dhcp };
      this.#links.set(name, m);
    }
    const inet = new InetControl();
    try {
      if (iface.mtu !== undefined) inet.setMtu(name, iface.mtu);
      if (iface.up === false) inet.linkDown(name);
      else inet.linkUp(name);
    } finally {
      inet.close();
    }
    const nl = new RouteNetlink();
    try {
      // Addresses before routes: a route's gateway must be reachable through one.
      // Removals first: deleting a primary IPv4 address takes its secondaries with it.
      const addresses = new Set(iface.addresses);
      for (const cidr of m.addresses) if (!addresses.has(cidr)) nl.address("delete", ifindex, cidr, ["EADDRNOTAVAIL"]);
      for (const cidr of addresses) nl.address("add", ifindex, cidr);
      m.addresses = addresses;
    } finally {
      nl.close();
    }
    if (iface.dhcp && !m.dhcp && iface.up !== false) {
      const mac = (await readFile(`/sys/class/net/${name}/address`, "utf8")).trim();
      const lease = await acquireLease({ ifname: name, mac, timeoutMs: this.#opts.dhcpTimeoutMs, log });
      log.info({ ifname: name, address: lease.address, prefix: lease.prefixLength, router: lease.routers[0], leaseSeconds: lease.leaseSeconds }, "DHCP lease");
      this.#hold(name, m, lease, undefined, iface);
    } else if (!iface.dhcp && m.dhcp) {
      this.#release(name, m);
    }
    const nl2 = new RouteNetlink();
    try {
      const routes = new Map(iface.routes.map((r) => {
        const req: RouteRequest = { destination: r.network === "default" ? "0.0.0.0/0" : r.network, gateway: r.gateway, metric: r.metric, ifindex };
        return [routeKey(req), req] as const;
      }));
      for (const r of routes.values()) nl2.route("add", r);
      for (const [k, r] of m.routes) if (!routes.has(k)) nl2.route("delete", r, ["ESRCH"]);
      m.routes = routes;
    } finally {
      nl2.close();
    }
  }

  /** Drops everything Cairn put on a link that left the config. */
  #unmanage(name: string, m: ManagedLink, log: Logger): void {
    const nl = new RouteNetlink();
    try {
      for (const r of m.routes.values()) nl.route("delete", r, ["ESRCH", "ENODEV"]);
      for (const cidr of m.addresses) nl.address("delete", m.ifindex, cidr, ["EADDRNOTAVAIL", "ENODEV"]);
    } catch (err) {
      log.warn({ err, ifname: name }, "removing addresses of an unconfigured link failed");
    } finally {
      nl.close();
    }
    if (m.dhcp) this.#release(name, m);
    this.#links.delete(name);
  }

  /** Puts a (new or extended) lease on the link and schedules its renewal. */
  #hold(name: string, m: ManagedLink, lease: DhcpLease, previous: DhcpLease | undefined, iface: InterfaceSpec | undefined): void {
    const nl = new RouteNetlink();
    try {
      if (iface?.mtu === undefined && lease.mtu !== undefined && !previous) {
        const inet = new InetControl();
        try {
          inet.setMtu(name, lease.mtu);
        } finally {
          inet.close();
        }
      }
      const cidr = `${lease.address}/${lease.prefixLength}`;
      nl.address("add", m.ifindex, cidr);
      const router = lease.routers[0];
      if (previous && `${previous.address}/${previous.prefixLength}` !== cidr) {
        nl.address("delete", m.ifindex, `${previous.address}/${previous.prefixLength}`, ["EADDRNOTAVAIL"]);
      }
      if (router) nl.route("add", { destination: "0.0.0.0/0", gateway: router, ifindex: m.ifindex, metric: DHCP_ROUTE_METRIC });
      if (previous?.routers[0] && previous.routers[0] !== router) {
        nl.route("delete", { destination: "0.0.0.0/0", gateway: previous.routers[0], ifindex: m.ifindex, metric: DHCP_ROUTE_METRIC }, ["ESRCH"]);
      }
    } finally {
      nl.close();
    }
    if (m.dhcp?.timer) clearTimeout(m.dhcp.timer);
    m.dhcp = { lease, grantedAt: Date.now(), phase: "bound", timer: undefined };
    void this.#writeResolvers();
    this.#schedule(name, m);
  }

  /** Removes the lease's address and route (DHCP turned off, link unconfigured, or the lease ran out). */
  #release(name: string, m: ManagedLink): void {
    const held = m.dhcp;
    if (!held) return;
    if (held.timer) clearTimeout(held.timer);
    m.dhcp = undefined;
    const nl = new RouteNetlink();
    try {
      const router = held.lease.routers[0];
      if (router) nl.route("delete", { destination: "0.0.0.0/0", gateway: router, ifindex: m.ifindex, metric: DHCP_ROUTE_METRIC }, ["ESRCH", "ENODEV"]);
      nl.address("delete", m.ifindex, `${held.lease.address}/${held.lease.prefixLength}`, ["EADDRNOTAVAIL", "ENODEV"]);
    } catch (err) {
      this.#log?.warn({ err, ifname: name }, "removing a DHCP address failed");
    } finally {
      nl.close();
    }
    void this.#writeResolvers();
  }

  #schedule(name: string, m: ManagedLink): void {
    const held = m.dhcp;
    if (!held || held.lease.leaseSeconds === 0xffffffff) return; // infinite lease
    const plan = leasePlan(held.lease, (Date.now() - held.grantedAt) / 1000);
    held.phase = plan.phase;
    // Never less than 10 s: a server handing out tiny T1s must not make PID 1 spin.
    const delayMs = Math.min(Math.max(plan.wakeInSeconds, plan.phase === "expired" ? 0 : 10) * 1000, MAX_TIMER_MS);
    held.timer = setTimeout(() => {
      // Never let a rejection escape a timer in PID 1.
      void this.#renew(name, m).catch((err: unknown) => this.#log?.error({ err, ifname: name }, "DHCP renewal failed"));
    }, delayMs);
    held.timer.unref();
  }

  async #renew(name: string, m: ManagedLink): Promise<void> {
    const held = m.dhcp;
    if (!held || this.#links.get(name) !== m) return;
    const log = this.#log;
    const mac = (await readFile(`/sys/class/net/${name}/address`, "utf8")).trim();
    const plan = leasePlan(held.lease, (Date.now() - held.grantedAt) / 1000);
    held.phase = plan.phase;
    if (plan.phase === "expired") {
      log?.warn({ ifname: name, address: held.lease.address }, "DHCP lease expired: address removed, rediscovering");
      this.#release(name, m);
      try {
        const lease = await acquireLease({ ifname: name, mac, timeoutMs: this.#opts.dhcpTimeoutMs, log: log! });
        this.#hold(name, m, lease, undefined, undefined);
      } catch (err) {
        log?.warn({ err, ifname: name }, "DHCP rediscovery failed, retrying in 60 s");
        const retry = setTimeout(() => void this.#rediscover(name, m, mac).catch(() => undefined), 60_000);
        retry.unref();
      }
      return;
    }
    try {
      const lease = await renewLease({ ifname: name, mac, ciaddr: held.lease.address, timeoutMs: this.#opts.dhcpTimeoutMs, log: log! });
      log?.info({ ifname: name, address: lease.address, leaseSeconds: lease.leaseSeconds, phase: plan.phase }, "DHCP lease extended");
      this.#hold(name, m, lease, held.lease, undefined);
    } catch (err) {
      if ((err as CairnError).code === "ABORTED") {
        // NAK: the address is no longer ours.
        held.grantedAt = 0;
        held.lease = { ...held.lease, leaseSeconds: 0, renewSeconds: 0, rebindSeconds: 0 };
      }
      log?.warn({ err, ifname: name, phase: plan.phase }, "DHCP renewal got no answer, will retry");
      this.#schedule(name, m);
    }
  }

  async #rediscover(name: string, m: ManagedLink, mac: string): Promise<void> {
    if (this.#links.get(name) !== m || m.dhcp) return;
    try {
      this.#hold(name, m, await acquireLease({ ifname: name, mac, timeoutMs: this.#opts.dhcpTimeoutMs, log: this.#log! }), undefined, undefined);
    } catch {
      const retry = setTimeout(() => void this.#rediscover(name, m, mac).catch(() => undefined), 60_000);
      retry.unref();
    }
  }

  /** resolv.conf: the configured nameservers first, then those the leases gave, search domains from leases. */
  async #writeResolvers(): Promise<void> {
    const leases = [...this.#links.values()].flatMap((m) => (m.dhcp ? [m.dhcp.lease] : []));
    const nameservers = [...this.#nameservers, ...leases.flatMap((l) => l.dns)];
    const search = leases.flatMap((l) => (l.domain ? [l.domain] : []));
    const text = renderResolvConf(nameservers, search);
    if (text === this.#resolvText) return;
    await writeResolvConf(this.#opts.resolvConfPath, text);
    this.#resolvText = text;
  }
}
