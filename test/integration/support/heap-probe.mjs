// Preloaded into a test's machined (node --import) by api-abuse.test.ts; never part of the image.
// On SIGUSR2 it runs two full garbage collections and appends one JSON line of
// process.memoryUsage() to the file named by CAIRN_HEAP_PROBE: the live heap
// after GC, which RSS (moving ±20 MiB with V8's collections) cannot show.
import { appendFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const file = process.env.CAIRN_HEAP_PROBE;
if (file) {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  process.on("SIGUSR2", () => {
    gc();
    gc();
    appendFileSync(file, `${JSON.stringify(process.memoryUsage())}\n`);
  });
}
