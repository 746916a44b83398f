import { execFile } from "node:child_process";
import { REPO } from "./node.js";

export interface NodectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI (`node bin/nodectl.js ...`) as a subprocess. The
 * caller's NODECTL_CONFIG and HOME never leak in: a test names its client
 * config explicitly (env or --nodectlconfig), or has none.
 */
export function nodectl(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<NodectlResult> {
  const base = { ...process.env };
  delete base["NODECTL_CONFIG"];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["bin/nodectl.js", ...args],
      { cwd: REPO, env: { ...base, HOME: "/nonexistent-cairn-test-home", ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(new Error(`nodectl ${args.join(" ")}: ${err.message}\n${stderr}`));
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** A nodectl result as text for assertion messages. */
export function show(r: NodectlResult): string {
  return `exit ${r.code}\n[stdout]\n${r.stdout}\n[stderr]\n${r.stderr}`;
}
