import { readdir, readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { CairnError } from "../../errors/index.js";
import type { InterfaceSpec, LinkStatus, NetworkSpec } from "../platform.js";
import { acquireLease } from "./dhcp.js";
import type { DhcpLease } from "./dhcp-packet.js";
import { InetControl } from "./inet-ioctl.js";
import { readLinks } from "./net-links.js";
import { renderResolvConf, writeResolvConf } from "./resolv-conf.js";

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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

/**
 * Applies a NetworkSpec: per interface MTU, link up, DHCP and/or static
 * IPv4 addresses (first on the link's own label, the rest on `name:N`
 * aliases), routes, then nameservers into resolv.conf. DHCP leases are
 * renewed by re-acquiring at T1 on a timer. Addresses and routes that a
 * previous spec added are not removed (ioctls cannot list them): changing
 * them needs a reboot.
 */
export class NetworkConfigurator {
  readonly #renewals = new Map<string, NodeJS.Timeout>();
  readonly #opts: { resolvConfPath: string; dhcpTimeoutMs: number };

  constructor(opts: { resolvConfPath: string; dhcpTimeoutMs: number }) {
    this.#opts = opts;
  }

  async configure(spec: NetworkSpec, log: Logger): Promise<LinkStatus[]> {
    const nameservers = [...spec.nameservers];
    const search: string[] = [];
    const failures: string[] = [];
    for (const iface of spec.interfaces) {
      let name = iface.name ?? iface.mac ?? "?";
      try {
        name = await resolveInterfaceName(iface);
        const lease = await this.#configureInterface(name, iface, log);
        if (lease) {
          nameservers.push(...lease.dns);
          if (lease.domain) search.push(lease.domain);
        }
      } catch (err) {
        // One broken link must not leave the others unconfigured.
        log.error({ err, ifname: name }, "interface configuration failed");
        failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (nameservers.length) await writeResolvConf(this.#opts.resolvConfPath, renderResolvConf(nameservers, search));
    if (failures.length) throw new CairnError("UNAVAILABLE", `configure network: ${failures.join("; ")}`);
    return readLinks();
  }

  /** Cancels lease renewals. Idempotent. */
  close(): void {
    for (const t of this.#renewals.values()) clearTimeout(t);
    this.#renewals.clear();
  }

  async #configureInterface(name: string, iface: InterfaceSpec, log: Logger): Promise<DhcpLease | undefined> {
    const inet = new InetControl();
    try {
      if (iface.mtu !== undefined) inet.setMtu(name, iface.mtu);
      inet.linkUp(name);
      let lease: DhcpLease | undefined;
      if (iface.dhcp) {
        const mac = (await readFile(`/sys/class/net/${name}/address`, "utf8")).trim();
        lease = await acquireLease({ ifname: name, mac, timeoutMs: this.#opts.dhcpTimeoutMs, log });
        log.info({ ifname: name, address: lease.address, prefix: lease.prefixLength, router: lease.routers[0], leaseSeconds: lease.leaseSeconds }, "DHCP lease");
        this.#applyLease(inet, name, iface, lease);
        this.#scheduleLeaseRenewal(name, iface, lease, log);
      }
      const labels = (i: number): string => (i === 0 && !lease ? name : `${name}:${lease ? i + 1 : i}`);
      iface.addresses.forEach((cidr, i) => inet.setAddress(labels(i), cidr));
      for (const r of iface.routes) inet.addRoute({ network: r.network, gateway: r.gateway, metric: r.metric, dev: name });
      return lease;
    } finally {
      inet.close();
    }
  }

  #applyLease(inet: InetControl, name: string, iface: InterfaceSpec, lease: DhcpLease): void {
    if (iface.mtu === undefined && lease.mtu !== undefined) inet.setMtu(name, lease.mtu);
    inet.setAddress(name, `${lease.address}/${lease.prefixLength}`);
    const router = lease.routers[0];
    if (router) inet.addRoute({ network: "default", gateway: router, dev: name, metric: 1024 });
  }

  #scheduleLeaseRenewal(name: string, iface: InterfaceSpec, lease: DhcpLease, log: Logger): void {
    if (lease.leaseSeconds === 0xffffffff) return; // infinite lease
    this.#scheduleRenewal(name, iface, Math.max(lease.renewSeconds, 10), log);
  }

  #scheduleRenewal(name: string, iface: InterfaceSpec, delaySeconds: number, log: Logger): void {
    clearTimeout(this.#renewals.get(name));
    const t = setTimeout(() => {
      this.#renewals.delete(name);
      // Never let a rejection escape a timer in PID 1.
      void this.#renew(name, iface, log).catch((err: unknown) => log.error({ err, ifname: name }, "DHCP renewal failed"));
    }, Math.min(delaySeconds * 1000, MAX_TIMER_MS));
    t.unref();
    this.#renewals.set(name, t);
  }

  async #renew(name: string, iface: InterfaceSpec, log: Logger): Promise<void> {
    const mac = (await readFile(`/sys/class/net/${name}/address`, "utf8")).trim();
    let lease: DhcpLease;
    try {
      lease = await acquireLease({ ifname: name, mac, timeoutMs: this.#opts.dhcpTimeoutMs, log });
    } catch (err) {
      // Keep the current address and try again in a minute.
      log.warn({ err, ifname: name }, "DHCP renewal got no lease, retrying");
      this.#scheduleRenewal(name, iface, 60, log);
      return;
    }
    const inet = new InetControl();
    try {
      this.#applyLease(inet, name, iface, lease);
    } finally {
      inet.close();
    }
    log.info({ ifname: name, address: lease.address, leaseSeconds: lease.leaseSeconds }, "DHCP lease renewed");
    this.#scheduleLeaseRenewal(name, iface, lease, log);
  }
}
