import { execFile } from "node:child_process";
import { resolve } from "node:path";

/** What one nodectl invocation did. */
export interface NodectlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** argv and output in one string, for assertion messages. */
  readonly transcript: string;
}

/**
 * Runs the real, compiled nodectl (bin/nodectl.js → build/) as a user would,
 * with `NODECTL_CONFIG` pointing at the test's client config. Never throws on
 * a non-zero exit: the caller asserts on the code and shows the transcript.
 */
export function nodectl(args: readonly string[], opts: { config?: string; timeoutMs?: number } = {}): Promise<NodectlRun> {
  const env = { ...process.env };
  if (opts.config !== undefined) env["NODECTL_CONFIG"] = opts.config;
  else delete env["NODECTL_CONFIG"];
  return new Promise((done) => {
    execFile(process.execPath, [resolve("bin/nodectl.js"), ...args], { env, timeout: opts.timeoutMs ?? 60_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      done({ code, stdout, stderr, transcript: `$ nodectl ${args.join(" ")}\n[exit ${code}${err?.killed ? ", killed on timeout" : ""}]\n${stdout}${stderr}` });
    });
  });
}
