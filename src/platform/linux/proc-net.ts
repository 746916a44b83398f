import type { SocketSnapshot } from "../platform.js";

/** TCP states by the hex code /proc/net/tcp uses (include/net/tcp_states.h). */
const TCP_STATES: Record<number, string> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV",
};

/**
 * An address of /proc/net/{tcp,udp}[6] to text. The kernel prints the raw
 * in-memory words: IPv4 is one 32-bit word in host (little-endian) order,
 * IPv6 four such words. IPv6 is printed in full, lower case, with "::"
 * compression of the longest zero run, and "::ffff:a.b.c.d" kept readable.
 */
export function decodeProcNetAddress(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(word.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join(".")}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // Longest run of zero groups (at least two) becomes "::" (RFC 5952).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best.at < 0) return hexes.join(":");
  return `${hexes.slice(0, best.at).join(":")}::${hexes.slice(best.at + best.len).join(":")}`;
}

/**
 * Parses /proc/net/tcp, tcp6, udp or udp6: a header line, then
 * `sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...`.
 * UDP reuses TCP's state codes: 7 (CLOSE) is an unconnected socket, shown
 * as "UNCONN" like ss does.
 */
export function parseProcNet(text: string, protocol: SocketSnapshot["protocol"]): SocketSnapshot[] {
  const out: SocketSnapshot[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [localHex, localPort] = (f[1] ?? "").split(":");
    const [remoteHex, remotePort] = (f[2] ?? "").split(":");
    const [tx, rx] = (f[4] ?? "").split(":");
    const code = parseInt(f[3] ?? "0", 16);
    const udp = protocol.startsWith("udp");
    out.push({
      protocol,
      localAddress: decodeProcNetAddress(localHex ?? ""),
      localPort: parseInt(localPort ?? "0", 16),
      remoteAddress: decodeProcNetAddress(remoteHex ?? ""),
      remotePort: parseInt(remotePort ?? "0", 16),
      state: udp && code === 7 ? "UNCONN" : (TCP_STATES[code] ?? `0x${code.toString(16)}`),
      uid: Number(f[7]),
      inode: Number(f[9]),
      txQueueBytes: parseInt(tx ?? "0", 16),
      rxQueueBytes: parseInt(rx ?? "0", 16),
    });
  }
  return out;
}
