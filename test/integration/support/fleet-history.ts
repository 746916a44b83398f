import type { WatchEvent } from "../../../src/machinery/fleet/index.js";
import type { LoggedEvent } from "./release-repo.js";

/** Replays holder PUT/DELETE events from etcd's history: the most holders at once, and who took and gave back slots, in order. */
export function replayHolders(events: readonly WatchEvent[], holdersPrefix: string): { maxAtOnce: number; acquired: string[]; released: string[] } {
  const live = new Set<string>();
  let maxAtOnce = 0;
  const acquired: string[] = [];
  const released: string[] = [];
  for (const e of events) {
    if (!e.key.startsWith(holdersPrefix)) continue;
    const id = e.key.slice(holdersPrefix.length);
    if (e.type === "PUT") {
      live.add(id);
      acquired.push(id);
    } else {
      live.delete(id);
      released.push(id);
    }
    maxAtOnce = Math.max(maxAtOnce, live.size);
  }
  return { maxAtOnce, acquired, released };
}

export interface SlotSpan {
  readonly acquired: number;
  readonly rebooting: number;
  readonly released: number;
}

/** A node's [lock-acquired, lock-released] span for one release and its reboot inside, from its logged events; undefined parts are missing. */
export function slotSpan(ev: readonly LoggedEvent[], release: string): Partial<SlotSpan> {
  const at = (type: string) => ev.find((e) => e.type === type && e.fields["version"] === release)?.time;
  return { acquired: at("update.lock-acquired"), rebooting: at("update.rebooting"), released: at("update.lock-released") };
}

/** Every reboot inside its own slot span, and no two spans overlapping: "one at a time" by the nodes' clocks. */
export function spansDisjoint(spans: readonly SlotSpan[]): string | undefined {
  const sorted = [...spans].sort((a, b) => a.acquired - b.acquired);
  for (const s of sorted) if (!(s.acquired <= s.rebooting && s.rebooting <= s.released)) return `reboot outside its slot: ${JSON.stringify(s)}`;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.acquired < sorted[i - 1]!.released) return `overlap: ${JSON.stringify(sorted[i - 1])} and ${JSON.stringify(sorted[i])}`;
  return undefined;
}

/** Whether all three parts of a node's slot span for `release` are logged. */
export function hasSlotSpan(ev: readonly LoggedEvent[], release: string): boolean {
  const s = slotSpan(ev, release);
  return s.acquired !== undefined && s.rebooting !== undefined && s.released !== undefined;
}
