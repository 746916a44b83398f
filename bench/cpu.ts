// CPU time of a server process, so the report can show CPU per request: on a
// shared, loaded host that is steadier than latency alone.
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux we run on. */
const CLK_TCK = 100;

/** utime+stime of `pid` in ms, or undefined where /proc is not available. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}
