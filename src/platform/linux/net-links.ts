import { readdir, readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import type { LinkStatus } from "../platform.js";

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
 * /sys/class/net, addresses (CIDR, IPv4 and IPv6) from getifaddrs via
 * os.networkInterfaces(), which lists only links that are up and running.
 */
export async function readLinks(sysNet = "/sys/class/net"): Promise<LinkStatus[]> {
  let names: string[];
  try {
    names = await readdir(sysNet);
  } catch {
    return [];
  }
  // getifaddrs reports alias addresses under their label (`eth0:1`): fold them into the link.
  const addrs: Record<string, string[]> = {};
  for (const [label, list] of Object.entries(networkInterfaces())) {
    const link = label.split(":")[0] ?? label;
    for (const a of list ?? []) if (a.cidr) (addrs[link] ??= []).push(a.cidr);
  }
  const out: LinkStatus[] = [];
  for (const name of names.sort()) {
    const base = `${sysNet}/${name}`;
    const flags = parseInt((await readSys(`${base}/flags`)) || "0", 16);
    out.push({
      name,
      mac: await readSys(`${base}/address`),
      up: (flags & IFF_UP) !== 0,
      mtu: Number((await readSys(`${base}/mtu`)) || 0),
      addresses: addrs[name] ?? [],
      rxBytes: Number((await readSys(`${base}/statistics/rx_bytes`)) || 0),
      txBytes: Number((await readSys(`${base}/statistics/tx_bytes`)) || 0),
    });
  }
  return out;
}
