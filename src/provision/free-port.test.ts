import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { pickFreePort } from "./free-port.js";

describe("pickFreePort", () => {
  it("returns a port that can be bound on 127.0.0.1", async () => {
    const port = await pickFreePort();
    expect(port).toBeGreaterThan(0);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise((r) => srv.close(r));
  });

  it("skips excluded ports", async () => {
    const first = await pickFreePort();
    for (let i = 0; i < 5; i++) expect(await pickFreePort(new Set([first]))).not.toBe(first);
  });
});
