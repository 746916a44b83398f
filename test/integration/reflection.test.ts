import { createRequire } from "node:module";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { loadPackageDefinition, type Client, type ClientDuplexStream, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineServiceService } from "../../src/api/index.js";
import { TestCluster, startNode, stopAllNodes, type NodeProcess } from "./support/index.js";

// grpcurl and other generic clients discover the API through server
// reflection: it must be served on the mTLS port and describe the real service.

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

let cluster: TestCluster;
let node: NodeProcess;
let client: Client & { ServerReflectionInfo(): ClientDuplexStream<object, ReflectionResponse> };

beforeAll(async () => {
  cluster = await TestCluster.create("reflect");
  node = await startNode();
  await cluster.configure(node);
  const protoPath = createRequire(import.meta.url).resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
  const pkg = loadPackageDefinition(loadSync(protoPath, { keepCase: true, oneofs: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
  };
  client = new pkg.grpc.reflection.v1.ServerReflection(node.address, cluster.creds()) as unknown as typeof client;
});
afterAll(async () => {
  client?.close();
  await stopAllNodes();
  cluster.dispose();
});

/** One request on the bidirectional stream, its one response. */
function ask(req: object): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.once("data", (res: ReflectionResponse) => {
      resolve(res);
      call.end();
    });
    call.once("error", reject);
    call.write(req);
  });
}

describe("server reflection (grpc.reflection.v1) over mTLS", () => {
  it("lists cairn.machine.v1.MachineService", async () => {
    const res = await ask({ list_services: "" });
    const names = res.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names, JSON.stringify(res)).toContain("cairn.machine.v1.MachineService");
  });

  it("returns the file descriptor declaring MachineService, with every generated method", async () => {
    const res = await ask({ file_containing_symbol: "cairn.machine.v1.MachineService" });
    expect(res.error_response, JSON.stringify(res.error_response)).toBeUndefined();
    const files = (res.file_descriptor_response?.file_descriptor_proto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
    const file = files.find((f) => f.service.some((s) => s.name === "MachineService"));
    expect(file, files.map((f) => f.name).join(", ")).toBeDefined();
    expect(file?.package).toBe("cairn.machine.v1");
    expect(file?.name).toMatch(/machine\.proto$/);
    const described = file?.service.find((s) => s.name === "MachineService")?.method.map((m) => m.name).sort();
    const generated = Object.values(MachineServiceService).map((d) => d.path.split("/").at(-1)).sort();
    expect(described).toEqual(generated);
  });
});
