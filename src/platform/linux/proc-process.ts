/**
 * Pure parsers for /proc/<pid>/stat and /proc/<pid>/cmdline (ps). They take
 * the file's text so unit tests run on sample text from a real kernel.
 */

/** The fields of /proc/<pid>/stat that `ps` shows, in raw kernel units. */
export interface PidStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  /** utime + stime in clock ticks. */
  readonly cpuTicks: number;
  readonly threads: number;
  /** Start time in clock ticks since boot. */
  readonly startTicks: number;
  /** Resident set size in pages. */
  readonly rssPages: number;
}

/**
 * Parses `pid (comm) state ppid ...`. comm may itself hold spaces and
 * parentheses, so it runs to the LAST ")" (proc(5)). Field numbers below
 * are proc(5)'s, counted from 1: utime 14, stime 15, num_threads 20,
 * starttime 22, rss 24. Returns undefined for text that is not a stat line
 * (a process that exited mid-read leaves an empty file).
 */
export function parsePidStat(text: string): PidStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const f = (n: number) => Number(rest[n - 3] ?? NaN);
  if (!Number.isInteger(pid) || rest.length < 22) return undefined;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    ppid: f(4),
    cpuTicks: f(14) + f(15),
    threads: f(20),
    startTicks: f(22),
    rssPages: f(24),
  };
}

/** /proc/<pid>/cmdline: NUL-separated arguments → one space-joined line. */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, "").split("\0").join(" ");
}
