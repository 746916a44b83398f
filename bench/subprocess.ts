// Child processes of the benchmark: started with a readiness check, always
// stopped, even when the run fails or is interrupted.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

const live = new Set<ChildProcess>();

// Last resort: whatever way the bench process ends, no server outlives it.
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => process.exit(130));
}

/**
 * Extra node flags for the servers from BENCH_SERVER_NODE_ARGS (space
 * separated), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile both.
 */
function serverNodeArgs(): string[] {
  return (process.env["BENCH_SERVER_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "");
}

/** A started child; stop() is idempotent and resolves once the process is gone. */
export interface Child {
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Spawns `node args...` and resolves when `ready` returns a value for a line
 * on the chosen stream; rejects (after killing the child) on exit or timeout.
 * The other stream is discarded, so a chatty child never blocks on a full pipe.
 */
export function startNode<T>(args: string[], opts: { stream: "stdout" | "stderr"; ready: (line: string) => T | undefined; timeoutMs: number; name: string }): Promise<{ child: Child; value: T }> {
  const proc = spawn(process.execPath, [...serverNodeArgs(), ...args], {
    stdio: ["ignore", opts.stream === "stdout" ? "pipe" : "ignore", opts.stream === "stderr" ? "pipe" : "ignore"],
  });
  live.add(proc);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  void exited.then(() => live.delete(proc));
  let stopping: Promise<void> | undefined;
  const child: Child = {
    pid: proc.pid ?? -1,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  return new Promise((resolve, reject) => {
    const out = proc[opts.stream];
    const tail: string[] = [];
    const fail = (why: string) => {
      clearTimeout(timer);
      void child.stop();
      reject(new Error(`${opts.name}: ${why}${tail.length ? `\n  ${tail.join("\n  ")}` : ""}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited early (${signal ?? code})`);
    proc.once("exit", onExit);
    proc.once("error", (e) => fail(e.message));
    if (!out) return fail("no output stream");
    let done = false;
    createInterface({ input: out }).on("line", (line) => {
      if (done) return;
      tail.push(line);
      if (tail.length > 10) tail.shift();
      const value = opts.ready(line);
      if (value === undefined) return;
      done = true;
      clearTimeout(timer);
      proc.off("exit", onExit);
      // readline keeps reading (and dropping) later lines, so the child never blocks on the pipe.
      resolve({ child, value });
    });
  });
}
