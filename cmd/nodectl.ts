// nodectl: the Cairn CLI. Every failure is one readable line, never a stack trace.
import { buildProgram } from "../src/cli/program.js";
import { describeError } from "../src/cli/output.js";

// grpc-js sends the node's IP as TLS SNI, which Node flags as DEP0123 on every
// call; the certificate is still checked against that IP. Keep other warnings.
process.removeAllListeners("warning");
process.on("warning", (w: Error & { code?: string }) => {
  if (w.code !== "DEP0123") process.stderr.write(`warning: ${w.message}\n`);
});

// `nodectl ... | head` closes the pipe early: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

buildProgram()
  .parseAsync()
  .catch((e: unknown) => {
    process.stderr.write(`error: ${describeError(e)}\n`);
    process.exitCode = 1;
  });
