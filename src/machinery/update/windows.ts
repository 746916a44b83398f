import type { MaintenanceWindow } from "../config/update-schema.js";
import { WEEKDAYS } from "../config/update-schema.js";

const MINUTE = 60_000;
const WEEK_MINUTES = 7 * 24 * 60;

/** Whether a reboot window is open at a moment, and when that changes. */
export interface WindowState {
  readonly open: boolean;
  /** When open: the end of the longest-running open window. */
  readonly closesAt?: number;
  /** When closed: the next start of any window. */
  readonly opensAt?: number;
}

/** Minutes since Sunday 00:00 UTC of the week containing `ms`. */
function minuteOfWeek(ms: number): number {
  const d = new Date(ms);
  return d.getUTCDay() * 24 * 60 + d.getUTCHours() * 60 + d.getUTCMinutes();
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/**
 * Evaluates weekly UTC windows at `now` (ms). Each day listed starts one
 * window at `start` lasting `lengthMinutes`; a window may run past midnight
 * and past Saturday into Sunday (all arithmetic is modulo one week). No
 * windows means always open. Second and sub-second parts of `now` count, so
 * "opens at 23:30" is 23:30:00.000 exactly.
 */
export function windowState(now: number, windows: readonly MaintenanceWindow[]): WindowState {
  if (windows.length === 0) return { open: true };
  const startOfMinute = now - mod(now, MINUTE);
  const m = minuteOfWeek(now);
  let closesAt: number | undefined;
  let opensIn = Infinity; // ms from now
  for (const w of windows) {
    const [hh, mm] = w.start.split(":").map(Number) as [number, number];
    for (const day of w.days) {
      const start = WEEKDAYS.indexOf(day) * 24 * 60 + hh * 60 + mm;
      const since = mod(m - start, WEEK_MINUTES); // whole minutes since this window last started
      if (since < w.lengthMinutes) {
        const end = startOfMinute + (w.lengthMinutes - since) * MINUTE;
        closesAt = Math.max(closesAt ?? end, end);
      } else {
        opensIn = Math.min(opensIn, (WEEK_MINUTES - since) * MINUTE - (now - startOfMinute));
      }
    }
  }
  if (closesAt !== undefined) return { open: true, closesAt };
  return { open: false, opensAt: now + opensIn };
}
