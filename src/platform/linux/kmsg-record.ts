import type { KernelLogRecord } from "../platform.js";

/**
 * Parses one /dev/kmsg record: `pri,seq,usec,flags[,...];message` followed
 * by optional `\n KEY=value` continuation lines (dropped). `pri` packs
 * facility and level as `facility << 3 | level`. The message escapes
 * non-printable bytes as `\xNN`; those are decoded back. Returns undefined
 * for text that is not a record, so a reader can skip garbage.
 */
export function parseKmsgRecord(text: string): KernelLogRecord | undefined {
  const semi = text.indexOf(";");
  if (semi < 0) return undefined;
  const fields = text.slice(0, semi).split(",");
  if (fields.length < 3) return undefined;
  const pri = Number(fields[0]);
  const seq = Number(fields[1]);
  const usec = Number(fields[2]);
  if (![pri, seq, usec].every((n) => Number.isInteger(n) && n >= 0)) return undefined;
  let message = text.slice(semi + 1);
  const nl = message.indexOf("\n");
  if (nl >= 0) message = message.slice(0, nl);
  return {
    seq,
    facility: pri >> 3,
    priority: pri & 7,
    monotonicUs: usec,
    message: unescapeKmsg(message),
  };
}

/** Undoes the kernel's `\xNN` escaping of control and non-ASCII bytes. */
export function unescapeKmsg(s: string): string {
  if (!s.includes("\\x")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      for (const b of Buffer.from(s[i] ?? "", "utf8")) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
