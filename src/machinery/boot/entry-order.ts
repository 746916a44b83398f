import { parseEntryName, type EntryName } from "./entry-name.js";

/** One entry file as read from loader/entries: its name and the keys systemd-boot orders by. */
export interface LoaderEntry extends EntryName {
  readonly sortKey: string | undefined;
  readonly version: string | undefined;
  /** `cairn.slot=` from the options line, if any. */
  readonly slotOption: string | undefined;
}

/** Reads the keys of an entry file that ordering and slot reporting need. */
export function parseLoaderEntry(file: string, text: string): LoaderEntry | undefined {
  const name = parseEntryName(file);
  if (!name) return undefined;
  const field = (k: string): string | undefined => {
    const line = text.split("\n").find((l) => l.startsWith(`${k} `) || l.startsWith(`${k}\t`));
    return line?.slice(k.length).trim() || undefined;
  };
  const slot = /(?:^|\s)cairn\.slot=(\S+)/.exec(field("options") ?? "");
  return { ...name, sortKey: field("sort-key"), version: field("version"), slotOption: slot?.[1] };
}

/**
 * A simplified strverscmp: runs of digits compare numerically, everything
 * else byte-wise. Enough for the versions and ids Cairn writes.
 */
export function versionCompare(a: string, b: string): number {
  const runs = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = runs(a);
  const y = runs(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (/^\d/.test(p) && /^\d/.test(q)) return Number(p) - Number(q) || p.localeCompare(q);
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

const cmp = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * systemd-boot's entry order (config_entry_compare, v252): entries with no
 * tries left last; entries with a sort-key before those without; by
 * sort-key; by version, newest first; by id, reverse; by tries left, most first.
 */
export function compareEntries(a: LoaderEntry, b: LoaderEntry): number {
  const r1 = cmp(a.triesLeft === 0 ? 1 : 0, b.triesLeft === 0 ? 1 : 0);
  if (r1) return r1;
  const r2 = cmp(a.sortKey === undefined ? 1 : 0, b.sortKey === undefined ? 1 : 0);
  if (r2) return r2;
  if (a.sortKey !== undefined && b.sortKey !== undefined) {
    const r3 = a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0;
    if (r3) return r3;
    const r4 = -versionCompare(a.version ?? "", b.version ?? "");
    if (r4) return r4;
  }
  const r5 = -versionCompare(a.id, b.id);
  if (r5) return r5;
  if (a.triesLeft === undefined || b.triesLeft === undefined) return 0;
  return -cmp(a.triesLeft, b.triesLeft);
}

/**
 * The entry systemd-boot boots with loader.conf `default cairn-*`: the
 * first Cairn entry in its order. Undefined when there is none.
 */
export function selectDefaultEntry(entries: readonly LoaderEntry[]): LoaderEntry | undefined {
  return [...entries].filter((e) => e.id.startsWith("cairn-")).sort(compareEntries)[0];
}
