/** One containerd log record, reduced to what the node's log keeps. */
export interface ContainerdLogLine {
  readonly level: string;
  readonly timeUnixMs: number;
  readonly message: string;
}

/**
 * Parses one line of containerd's output. With `format = "json"` logrus
 * writes `{"level":"info","msg":"...","time":"..."}`; anything else (a Go
 * panic, a plugin's plain text) is kept as it is, with no level.
 */
export function parseContainerdLine(raw: string, now = Date.now()): ContainerdLogLine {
  try {
    const rec = JSON.parse(raw) as { level?: unknown; time?: unknown };
    if (rec && typeof rec === "object") {
      const t = typeof rec.time === "string" ? Date.parse(rec.time) : NaN;
      return { level: typeof rec.level === "string" ? rec.level : "", timeUnixMs: Number.isFinite(t) ? t : now, message: raw };
    }
  } catch {
    // plain text
  }
  return { level: "", timeUnixMs: now, message: raw };
}
