import { createServer } from "node:net";
import { CairnError } from "../errors/index.js";

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 by binding port 0 and
 * closing again. Racy by nature (another process may take it before QEMU
 * binds), so launchNode retries with a new port when QEMU reports the clash.
 * `exclude` skips ports already handed out but not bound yet.
 */
export async function pickFreePort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await bindEphemeral();
    if (!exclude.has(port)) return port;
  }
  throw new CairnError("UNAVAILABLE", "could not find a free TCP port on 127.0.0.1");
}

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
