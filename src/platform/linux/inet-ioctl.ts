import { CairnError } from "../../errors/index.js";
import { ipv4ToBuffer } from "./dhcp-packet.js";
import { sysError } from "./errno.js";
import { check, lastErrno, libc, type SockaddrBytes } from "./libc.js";

/** Interface ioctls (linux/sockios.h). */
const SIOCADDRT = 0x890b;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCSIFADDR = 0x8916;
const SIOCSIFNETMASK = 0x891c;
const SIOCSIFMTU = 0x8922;
const IFF_UP = 0x1;
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_HOST = 0x4;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
/** IFNAMSIZ includes the NUL. */
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const EEXIST = "EEXIST";

/** Parses `10.0.2.15/24` (prefix defaults to 32). */
export function parseCidr(cidr: string): { address: string; prefix: number } {
  const [address = "", p] = cidr.split("/");
  const prefix = p === undefined ? 32 : Number(p);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new CairnError("INVALID_ARGUMENT", `not an IPv4 CIDR: ${cidr}`);
  try {
    ipv4ToBuffer(address);
  } catch {
    throw new CairnError("INVALID_ARGUMENT", `not an IPv4 CIDR: ${cidr}`);
  }
  return { address, prefix };
}

/** Dotted netmask for a prefix length (24 → 255.255.255.0). */
export function prefixToMask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join(".");
}

/** The network address of a CIDR (10.0.2.15/24 → 10.0.2.0). */
export function networkOf(address: string, prefix: number): string {
  const a = ipv4ToBuffer(address).readUInt32BE(0);
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const n = (a & m) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function sockaddrIn(ip: string): SockaddrBytes {
  const data = new Array<number>(14).fill(0);
  ipv4ToBuffer(ip).forEach((b, i) => (data[2 + i] = b));
  return { sa_family: AF_INET, sa_data: data };
}

function ifreq(name: string): Buffer {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new CairnError("INVALID_ARGUMENT", `interface name too long: ${name}`);
  const b = Buffer.alloc(IFREQ_SIZE);
  b.write(name, 0, "latin1");
  return b;
}

function ifreqAddr(name: string, ip: string): Buffer {
  const b = ifreq(name);
  b.writeUInt16LE(AF_INET, 16);
  ipv4ToBuffer(ip).copy(b, 20);
  return b;
}

/**
 * IPv4 link configuration through the classic interface ioctls on an
 * AF_INET datagram socket. Chosen over rtnetlink for size: each operation
 * is one fixed-layout struct. The cost: one address per label, so extra
 * addresses go on alias labels (`eth0:1`), as ifconfig did.
 */
export class InetControl {
  readonly #fd: number;

  constructor() {
    this.#fd = check(libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "open AF_INET control socket");
  }

  close(): void {
    libc().close(this.#fd);
  }

  /** Sets IFF_UP, keeping the other flags. */
  linkUp(name: string): void {
    const req = ifreq(name);
    check(libc().ioctl(this.#fd, SIOCGIFFLAGS, req), `get flags of ${name}`);
    req.writeUInt16LE(req.readUInt16LE(16) | IFF_UP, 16);
    check(libc().ioctl(this.#fd, SIOCSIFFLAGS, req), `bring ${name} up`);
  }

  /** Clears IFF_UP, keeping the other flags: the link stays configured but passes no traffic. */
  linkDown(name: string): void {
    const req = ifreq(name);
    check(libc().ioctl(this.#fd, SIOCGIFFLAGS, req), `get flags of ${name}`);
    req.writeUInt16LE(req.readUInt16LE(16) & ~IFF_UP, 16);
    check(libc().ioctl(this.#fd, SIOCSIFFLAGS, req), `bring ${name} down`);
  }

  setMtu(name: string, mtu: number): void {
    const req = ifreq(name);
    req.writeInt32LE(mtu, 16);
    check(libc().ioctl(this.#fd, SIOCSIFMTU, req), `set MTU ${mtu} on ${name}`);
  }

  /** Address then netmask on `label` (`eth0` or alias `eth0:1`); the kernel derives the broadcast. */
  setAddress(label: string, cidr: string): void {
    const { address, prefix } = parseCidr(cidr);
    check(libc().ioctl(this.#fd, SIOCSIFADDR, ifreqAddr(label, address)), `set address ${cidr} on ${label}`);
    check(libc().ioctl(this.#fd, SIOCSIFNETMASK, ifreqAddr(label, prefixToMask(prefix))), `set netmask ${cidr} on ${label}`);
  }

  /**
   * Adds an IPv4 route; an existing identical route is fine (idempotent
   * re-apply). The kernel stores rt_metric - 1, hence the +1.
   */
  addRoute(route: { network: string; gateway?: string | undefined; metric?: number | undefined; dev: string }): void {
    const { address, prefix } = parseCidr(route.network === "default" ? "0.0.0.0/0" : route.network);
    const what = `add route ${route.network}${route.gateway ? ` via ${route.gateway}` : ""} dev ${route.dev}`;
    const zero = sockaddrIn("0.0.0.0");
    const ret = libc().ioctlRoute(this.#fd, SIOCADDRT, {
      rt_pad1: 0,
      rt_dst: sockaddrIn(networkOf(address, prefix)),
      rt_gateway: route.gateway ? sockaddrIn(route.gateway) : zero,
      rt_genmask: sockaddrIn(prefixToMask(prefix)),
      rt_flags: RTF_UP | (route.gateway ? RTF_GATEWAY : 0) | (prefix === 32 ? RTF_HOST : 0),
      rt_pad2: 0,
      rt_pad3: 0,
      rt_pad4: null,
      rt_metric: (route.metric ?? 0) + 1,
      rt_dev: route.dev,
      rt_mtu: 0,
      rt_window: 0,
      rt_irtt: 0,
    });
    if (ret < 0) {
      const errno = lastErrno();
      const e = sysError(what, errno);
      if (!e.message.endsWith(EEXIST)) throw e;
    }
  }
}
