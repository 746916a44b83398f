const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** A weekly machine.update window starting at `startMs` (UTC, whole minutes), lasting `minutes`. */
export function windowAt(startMs: number, minutes: number): { days: string[]; start: string; lengthMinutes: number } {
  const d = new Date(startMs);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  return { days: [WEEKDAYS[d.getUTCDay()]!], start: `${hh}:${mm}`, lengthMinutes: minutes };
}
