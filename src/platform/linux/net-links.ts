import { readdir, readFile } from "node:fs/promises";
import type { LinkStatus } from "../platform.js";
import { listAddresses } from "./netlink-addresses.js";

const IFF_UP = 0x1;

async function readSys(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return "";
  }
}

/**
 * Every network link: MAC, MTU, flags and byte counters from
 * /sys/class/net, addresses (CIDR, IPv4 and IPv6, alias labels folded into
 * their link) from an rtnetlink dump matched by ifindex.
 */
export async function readLinks(sysNet = "/sys/class/net"): Promise<LinkStatus[]> {
  let names: string[];
  try {
    names = await readdir(sysNet);
  } catch {
    return [];
  }
  const byIndex = new Map<number, string[]>();
  for (const a of listAddresses()) {
    const list = byIndex.get(a.ifindex) ?? [];
    list.push(a.cidr);
    byIndex.set(a.ifindex, list);
  }
  const out: LinkStatus[] = [];
  for (const name of names.sort()) {
    const base = `${sysNet}/${name}`;
    const ifindex = Number(await readSys(`${base}/ifindex`));
    const flags = parseInt((await readSys(`${base}/flags`)) || "0", 16);
    out.push({
      name,
      mac: await readSys(`${base}/address`),
      up: (flags & IFF_UP) !== 0,
      mtu: Number((await readSys(`${base}/mtu`)) || 0),
      addresses: byIndex.get(ifindex) ?? [],
      rxBytes: Number((await readSys(`${base}/statistics/rx_bytes`)) || 0),
      txBytes: Number((await readSys(`${base}/statistics/tx_bytes`)) || 0),
    });
  }
  return out;
}
