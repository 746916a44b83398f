import { credentials, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { MachineServiceClient, MachineServiceService, VersionResponse } from "../api/index.js";
import { sessionOf } from "./peer-roles.js";

// The per-session role cache relies on reaching the HTTP/2 session through
// grpc-js internals; this pins that the pinned grpc-js still exposes it, and
// that two channels never share a session.
describe("sessionOf", () => {
  const seen: unknown[] = [];
  const server = new Server();
  server.addService(MachineServiceService, {
    version: (call: ServerUnaryCall<unknown, VersionResponse>, cb: sendUnaryData<VersionResponse>) => {
      seen.push(sessionOf(call));
      cb(null, VersionResponse.fromPartial({}));
    },
  } as never);
  afterAll(() => server.forceShutdown());

  it("finds one session per connection", async () => {
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const call = (c: MachineServiceClient) => new Promise<void>((res, rej) => c.version({}, (e) => (e ? rej(e) : res())));
    const a = new MachineServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const b = new MachineServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    await call(a);
    await call(a);
    await call(b);
    a.close();
    b.close();
    expect(seen[0]).toBeTypeOf("object");
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBeTypeOf("object");
    expect(seen[2]).not.toBe(seen[0]);
  });
});
