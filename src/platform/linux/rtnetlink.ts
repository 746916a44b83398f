import { CairnError } from "../../errors/index.js";
import { errnoName } from "./errno.js";
import { check, lastErrno, libc } from "./libc.js";
import { encodeAddrRequest, encodeRouteDump, encodeRouteRequest, parseAck, parseRouteMessages, type RouteEntry, type RouteRequest } from "./rtnetlink-codec.js";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;

let seqCounter = 1;

/**
 * One rtnetlink socket for a batch of address and route changes. Each
 * request asks for an ACK and waits for it (2 s receive timeout, so PID 1
 * never blocks for long), which turns the kernel's verdict into a typed
 * error naming what was being done.
 */
export class RouteNetlink {
  readonly #fd: number;
  readonly #buf = Buffer.alloc(65536);
  readonly #kernel = Buffer.alloc(12);

  constructor() {
    this.#fd = check(libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "open rtnetlink socket");
    try {
      const tv = Buffer.alloc(16);
      tv.writeBigInt64LE(2n, 0);
      check(libc().setsockopt(this.#fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), "rtnetlink: SO_RCVTIMEO");
    } catch (e) {
      libc().close(this.#fd);
      throw e;
    }
    this.#kernel.writeUInt16LE(AF_NETLINK, 0);
  }

  close(): void {
    libc().close(this.#fd);
  }

  /** Adds (or replaces) an address; `ignore` lists errno names that count as done. */
  address(op: "add" | "delete", ifindex: number, cidr: string, ignore: readonly string[] = []): void {
    const seq = seqCounter++;
    this.#request(encodeAddrRequest(op, ifindex, cidr, seq), seq, `${op} address ${cidr} on link ${ifindex}`, ignore);
  }

  route(op: "add" | "delete", r: RouteRequest, ignore: readonly string[] = []): void {
    const seq = seqCounter++;
    const what = `${op} route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ""} on link ${r.ifindex}`;
    this.#request(encodeRouteRequest(op, r, seq), seq, what, ignore);
  }

  /** The main table's unicast routes, IPv4 then IPv6. */
  routes(): RouteEntry[] {
    const out: RouteEntry[] = [];
    for (const family of [4, 6] as const) {
      const req = encodeRouteDump(family, seqCounter++);
      check(libc().sendto(this.#fd, req, req.length, 0, this.#kernel, 12), "list routes: send RTM_GETROUTE");
      for (;;) {
        const n = this.#recv("list routes");
        const r = parseRouteMessages(this.#buf.subarray(0, n));
        out.push(...r.routes);
        if (r.done || n === 0) break;
      }
    }
    return out;
  }

  #recv(what: string): number {
    const n = libc().recvfrom(this.#fd, this.#buf, this.#buf.length, 0, null, null);
    if (n < 0) throw new CairnError("UNAVAILABLE", `${what}: rtnetlink receive: ${errnoName(lastErrno())}`);
    return n;
  }

  #request(msg: Buffer, seq: number, what: string, ignore: readonly string[]): void {
    check(libc().sendto(this.#fd, msg, msg.length, 0, this.#kernel, 12), `${what}: send`);
    for (;;) {
      const n = this.#recv(what);
      const verdict = parseAck(this.#buf.subarray(0, n), seq);
      if (verdict === undefined) continue;
      if (verdict === "" || ignore.includes(verdict)) return;
      throw new CairnError(verdict === "EPERM" || verdict === "EACCES" ? "PERMISSION_DENIED" : "FAILED_PRECONDITION", `${what}: ${verdict}`);
    }
  }
}
