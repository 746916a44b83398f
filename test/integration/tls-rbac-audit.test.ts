import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { credentials, status, type ChannelCredentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { METHODS, MachineServiceService, ServiceAction, type MethodName } from "../../src/api/index.js";
import { MachineClient, mtlsChannelCredentials } from "../../src/machinery/client/index.js";
import { RULES } from "../../src/machinery/roles/index.js";
import { issueClientCert } from "../../src/pki/index.js";
import { readTarGz, writeSupportArchive } from "../../src/machinery/support/index.js";
import { KeyMaterial } from "./support/key-material.js";
import { NodeProcess, RawClient, TestCluster, freePort, nodectl, pollUntil, show, stopAllNodes } from "./support/index.js";

// The TLS and RBAC audit (issue 9): what the node offers on the wire, checked
// with the real openssl client; which role may call which RPC, over every
// method of the generated service definition (RPCs added later are covered
// without touching this file); and that no private key ever leaves the node
// through its logs or its API.

let cluster: TestCluster;
let node: NodeProcess;
let nodeDir: string;
let work: string;
const keys = new KeyMaterial();

/** Subjects for the RBAC table: the three roles, a role the node does not know, and no role at all. */
const SUBJECTS: { name: string; o: string[] }[] = [
  { name: "os:reader", o: ["os:reader"] },
  { name: "os:operator", o: ["os:operator"] },
  { name: "os:admin", o: ["os:admin"] },
  { name: "unknown role", o: ["os:superuser"] },
  { name: "no role", o: [] },
];
const certs = new Map<string, { certPem: string; keyPem: string; creds: ChannelCredentials }>();

function run(cmd: string, args: string[], input = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out: `${stdout}\n${stderr}` }),
    );
    child.stdin?.end(input);
  });
}

/**
 * openssl s_client against the node. stdin stays open for a moment so a
 * post-handshake alert (TLS 1.3 sends "certificate required" after the
 * client's Finished) is read and printed.
 */
async function sClient(port: number, extra: string[]): Promise<{ code: number; out: string }> {
  const args = ["-c", `sleep 1 | openssl s_client -connect 127.0.0.1:${port} -servername localhost -alpn h2 ${extra.join(" ")}`];
  return run("sh", args);
}

beforeAll(async () => {
  cluster = await TestCluster.create("audit");
  work = mkdtempSync(join(tmpdir(), "cairn-audit-"));
  nodeDir = join(work, "node");
  node = new NodeProcess(nodeDir, await freePort());
  node.record();
  await node.start();
  keys.add("CA key", cluster.secrets.ca.keyPem);
  for (const s of SUBJECTS) {
    const c = issueClientCert(cluster.secrets.ca, { commonName: `audit-${s.name.replace(/\W+/g, "-")}`, roles: s.o });
    certs.set(s.name, { ...c, creds: mtlsChannelCredentials({ caPem: cluster.secrets.ca.certPem, ...c }) });
    keys.add(`client key (${s.name})`, c.keyPem);
  }
  // The key nodectl itself presents (nodectl support below runs with this config).
  const ctl = parse(readFileSync(cluster.paths.nodectlConfigPath, "utf8")) as { contexts: Record<string, { key: string }> };
  for (const [name, ctx] of Object.entries(ctl.contexts)) keys.add(`nodectlconfig key (${name})`, Buffer.from(ctx.key, "base64").toString("utf8"));
  writeFileSync(join(work, "ca.pem"), cluster.secrets.ca.certPem);
  const admin = certs.get("os:admin");
  if (!admin) throw new Error("no admin cert");
  writeFileSync(join(work, "admin.crt"), admin.certPem);
  writeFileSync(join(work, "admin.key"), admin.keyPem);
}, 120_000);

afterAll(async () => {
  await stopAllNodes();
  await node?.stop();
  cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe("TLS: what the node offers (openssl s_client)", () => {
  it("maintenance mode: TLS 1.3 only", async () => {
    const ok = await sClient(node.port, ["-tls1_3"]);
    expect(ok.out).toMatch(/New, TLSv1\.3, Cipher is TLS_/);
    for (const old of ["-tls1_2", "-tls1_1"]) {
      const r = await sClient(node.port, [old]);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/alert protocol version|no protocols available|unsupported protocol/);
      expect(r.out).toMatch(/New, \(NONE\), Cipher is \(NONE\)/);
    }
  });

  it("configured: TLS 1.3 with the admin cert; 1.2 and 1.1 refused; every offered suite is an AEAD", async () => {
    await cluster.configure(node);
    const serving = JSON.parse(readFileSync(join(nodeDir, "state/pki/serving.json"), "utf8")) as { keyPem?: string };
    const maint = JSON.parse(readFileSync(join(nodeDir, "state/pki/maintenance.json"), "utf8")) as { keyPem?: string };
    if (!serving.keyPem || !maint.keyPem) throw new Error("the node's key files changed shape: update the audit");
    keys.add("server key", serving.keyPem);
    keys.add("maintenance key", maint.keyPem);

    const auth = ["-CAfile", join(work, "ca.pem"), "-cert", join(work, "admin.crt"), "-key", join(work, "admin.key")];
    const ok = await sClient(node.port, ["-tls1_3", ...auth]);
    expect(ok.out).toMatch(/New, TLSv1\.3, Cipher is TLS_/);
    expect(ok.out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(ok.out).toMatch(/ALPN protocol: h2/);
    for (const old of ["-tls1_2", "-tls1_1"]) {
      const r = await sClient(node.port, [old, ...auth]);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/alert protocol version/);
    }
    // TLS 1.3 suites are all AEAD; offer each alone and record which the node accepts.
    for (const suite of ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]) {
      const r = await sClient(node.port, ["-tls1_3", "-ciphersuites", suite, ...auth]);
      expect(r.out, suite).toMatch(new RegExp(`Cipher is ${suite}`));
    }
  });

  it("configured: a handshake without a client certificate fails (alert 116 certificate required; gRPC UNAVAILABLE)", async () => {
    const r = await sClient(node.port, ["-tls1_3", "-CAfile", join(work, "ca.pem")]);
    expect(r.out).toMatch(/alert certificate required/);
    const anon = new RawClient(node.address, credentials.createSsl(Buffer.from(cluster.secrets.ca.certPem)));
    try {
      const out = await anon.call("version", [Buffer.alloc(0)], { deadlineMs: 10_000 });
      expect(out.code, out.details).toBe(status.UNAVAILABLE);
    } finally {
      anon.close();
    }
  });
});

/**
 * A request for each method that gets past RBAC without changing the node:
 * each is refused by the handler itself (bad input, unknown name, nothing to
 * roll back to). Methods not listed get an empty request (proto3 defaults),
 * which for a read-only RPC is a normal call. Reboot and Shutdown have no
 * harmless form: they really happen, and the test waits for the node.
 */
function probe(method: MethodName): Buffer[] {
  const enc = <K extends MethodName>(m: K, v: unknown): Buffer => (MachineServiceService[m].requestSerialize as (x: unknown) => Buffer)(v);
  switch (method as string) {
    case "applyConfiguration":
      return [enc("applyConfiguration", { data: Buffer.from("machine: [not, a, map"), mode: 0, dryRun: true, tryTimeoutSeconds: 0 })];
    case "reset":
      return [enc("reset", { wipe: ["no-such-area"], reboot: false })];
    case "upgrade":
      return [enc("upgrade", { msg: { $case: "chunk", chunk: Buffer.from("not a header") } })];
    case "rollback":
      return [enc("rollback", { reboot: false })];
    case "serviceControl":
      return [enc("serviceControl", { id: "no-such-service", action: ServiceAction.SERVICE_ACTION_RESTART })];
    // Inside every role's file allow-list (readers: /var/log), so the file system answers: NOT_FOUND.
    case "read":
      return [enc("read", { path: "/var/log/no-such-file" })];
    case "copy":
      return [enc("copy", { path: "/var/log/no-such-file" })];
    default:
      return [Buffer.alloc(0)];
  }
}

const POWER: readonly string[] = ["reboot", "shutdown"];

describe("RBAC: every role against every RPC of the generated service", () => {
  it("covers every method of MachineService and every rule names only known roles", () => {
    expect(new Set(Object.keys(RULES))).toEqual(new Set(METHODS));
    expect(METHODS.length).toBeGreaterThanOrEqual(16);
  });

  it("refuses each subject every RPC outside its set with PermissionDenied, and changes nothing", async () => {
    const admin = new MachineClient(node.address, certs.get("os:admin")?.creds as ChannelCredentials, 10_000);
    const before = await admin.version();
    const configBefore = Buffer.from((await admin.getConfiguration()).data).toString("utf8");
    const table: string[] = [];
    let refused = 0;
    for (const s of SUBJECTS) {
      const raw = new RawClient(node.address, certs.get(s.name)?.creds as ChannelCredentials);
      try {
        for (const m of METHODS) {
          if (RULES[m].some((r) => s.o.includes(r))) continue;
          const out = await raw.call(m, probe(m));
          table.push(`${s.name.padEnd(12)} ${m.padEnd(20)} ${status[out.code]}`);
          expect(out.code, `${s.name} calling ${m}: ${out.details}`).toBe(status.PERMISSION_DENIED);
          expect(out.details).toMatch(new RegExp(`may not call ${m}`));
          expect(out.responses).toBe(0);
          refused++;
        }
      } finally {
        raw.close();
      }
    }
    console.log(`RBAC refusals (${refused}):\n${table.join("\n")}`);
    const after = await admin.version();
    expect(after.bootId).toBe(before.bootId);
    expect(Buffer.from((await admin.getConfiguration()).data).toString("utf8")).toBe(configBefore);
    admin.close();
  });

  it("lets each role through RBAC for every RPC in its set (the handler answers, not the gate)", async () => {
    const table: string[] = [];
    for (const s of SUBJECTS) {
      const allowed = METHODS.filter((m) => RULES[m].some((r) => s.o.includes(r)));
      // Power actions last: each one ends the boot.
      allowed.sort((a, b) => Number(POWER.includes(a)) - Number(POWER.includes(b)));
      for (const m of allowed) {
        const raw = new RawClient(node.address, certs.get(s.name)?.creds as ChannelCredentials);
        const admin = new MachineClient(node.address, certs.get("os:admin")?.creds as ChannelCredentials, 10_000);
        try {
          const bootBefore = (await admin.version()).bootId;
          const out = await raw.call(m, probe(m));
          table.push(`${s.name.padEnd(12)} ${m.padEnd(20)} ${status[out.code]}${out.details ? `: ${out.details.slice(0, 70)}` : ""}`);
          expect(out.code, `${s.name} calling ${m}: ${out.details}`).not.toBe(status.PERMISSION_DENIED);
          expect(out.code, `${s.name} calling ${m}: ${out.details}`).not.toBe(status.UNAUTHENTICATED);
          if (m === "reboot") {
            expect(out.code).toBe(status.OK);
            await pollUntil("a new boot after Reboot", async () => {
              const c = new MachineClient(node.address, certs.get("os:admin")?.creds as ChannelCredentials, 2_000);
              try {
                const v = await c.version();
                return v.bootId !== bootBefore ? v : undefined;
              } finally {
                c.close();
              }
            }, { timeoutMs: 30_000, describe: () => node.output() });
          } else if (m === "shutdown") {
            expect(out.code).toBe(status.OK);
            await node.exited;
            await node.start({ mode: "configured", creds: certs.get("os:admin")?.creds as ChannelCredentials });
          }
        } finally {
          raw.close();
          admin.close();
        }
      }
      if (s.o.length === 0 || s.name === "unknown role") expect(allowed).toEqual([]);
    }
    console.log(`RBAC admissions (${table.length}):\n${table.join("\n")}`);
  }, 180_000);
});

/** Everything a client with each role can pull out of the node, as text. */
async function harvest(): Promise<{ where: string; text: string }[]> {
  const admin = new MachineClient(node.address, certs.get("os:admin")?.creds as ChannelCredentials, 20_000);
  const out: { where: string; text: string }[] = [];
  try {
    out.push({ where: "GetConfiguration", text: Buffer.from((await admin.getConfiguration()).data).toString("utf8") });
    out.push({ where: "GetConfiguration(staged)", text: await admin.getConfiguration(true).then((r) => Buffer.from(r.data).toString("utf8"), (e: Error) => e.message) });
    for (const svc of (await admin.serviceList()).services) {
      const lines: string[] = [];
      try {
        for await (const l of admin.logs({ service: svc.id, tailLines: 0 })) lines.push(JSON.stringify(l));
      } catch (e) {
        lines.push((e as Error).message); // a service without a log (apid in process mode)
      }
      out.push({ where: `Logs(${svc.id})`, text: lines.join("\n") });
    }
    const events: string[] = [];
    for await (const e of admin.events({})) events.push(JSON.stringify(e));
    out.push({ where: "Events", text: events.join("\n") });
    // Every file List shows under the node's own trees (/proc is the host's in process mode; a few of machined's own entries are read below).
    const files: string[] = [];
    for (const root of ["/", "/var", "/system"]) {
      try {
        for await (const f of admin.list({ path: root, recursive: true })) if (f.type === "file" && !f.path.startsWith("/proc")) files.push(f.path);
      } catch (e) {
        out.push({ where: `List(${root})`, text: (e as Error).message });
      }
    }
    for (const p of [...new Set(files), "/proc/self/cmdline", "/proc/self/status", "/proc/self/maps"]) {
      try {
        const chunks: Buffer[] = [];
        for await (const c of admin.read(p)) chunks.push(Buffer.from(c.data));
        out.push({ where: `Read(${p})`, text: Buffer.concat(chunks).toString("latin1") });
      } catch (e) {
        out.push({ where: `Read(${p}) refused`, text: (e as Error).message });
      }
    }
    // The key files themselves, by every path that leads there, and machined's memory and environment must be refused.
    const mustRefuse = [
      "/system/state/pki/serving.json",
      "/system/state/config/active.yaml",
      "/system/state/../state/pki/maintenance.json",
      "/proc/self/mem",
      "/proc/self/environ",
      "/proc/kcore",
      "/sys/firmware/qemu_fw_cfg/by_name/opt/dev.cairn/config/raw",
    ];
    for (const p of mustRefuse) {
      try {
        for await (const c of admin.read(p)) out.push({ where: `Read(${p}) LEAKED`, text: Buffer.from(c.data).toString("utf8") });
        out.push({ where: `Read(${p}) was not refused`, text: "-----BEGIN PRIVATE KEY-----" });
      } catch (e) {
        expect((e as { code?: number }).code, p).toBe(status.PERMISSION_DENIED);
      }
    }
    // A dry-run with another CA's key: the diff and any error must name the field, never the value.
    const otherKey = issueClientCert(cluster.secrets.ca, { commonName: "other", roles: [] }).keyPem;
    keys.add("a key sent in a rejected config", otherKey);
    const bad = cluster.configWith((d) => {
      d.machine["ca"] = { ...d.machine["ca"], key: otherKey };
    });
    const dry = await admin.applyConfiguration({ data: Buffer.from(bad), dryRun: true }).then((r) => JSON.stringify(r), (e: Error) => e.message);
    out.push({ where: "ApplyConfiguration(dry run, foreign CA key)", text: dry });
    const broken = `${bad}\nmachine: {`;
    out.push({ where: "ApplyConfiguration(invalid YAML with a key)", text: await admin.applyConfiguration({ data: Buffer.from(broken) }).then((r) => JSON.stringify(r), (e: Error) => e.message) });
    // Copy: a tar.gz of every tree an admin (and a reader) may read, decompressed and searched entry by entry.
    // In process mode /etc, /run and /sys are the node's (mostly empty) stand-ins and /proc is the host's: machined's own /proc/self is copied.
    for (const p of COPY_ROOTS) {
      const gz = await copyArchive(admin, p).catch((e: Error) => e);
      if (gz instanceof Error) out.push({ where: `Copy(${p}) failed`, text: gz.message });
      else out.push(...(await archiveTexts(`Copy(${p})`, gz)));
    }
    const reader = new MachineClient(node.address, certs.get("os:reader")?.creds as ChannelCredentials, 20_000);
    try {
      out.push(...(await archiveTexts("Copy(/var/log) as os:reader", await copyArchive(reader, "/var/log"))));
    } finally {
      reader.close();
    }
    // ... and the key files and machined's secrets are refused to Copy too, by every path that leads there.
    for (const p of ["/", "/system", "/system/state", "/system/state/pki", "/var/../system/state", "/proc/self/environ", "/proc/self/root", "/proc/self/fd", "/proc/kcore"]) {
      const r = await copyArchive(admin, p).then(
        (gz) => gz,
        (e: { code?: number; message?: string }) => e,
      );
      if (Buffer.isBuffer(r)) out.push(...(await archiveTexts(`Copy(${p}) was not refused`, r)), { where: `Copy(${p}) was not refused`, text: "-----BEGIN PRIVATE KEY-----" });
      else expect(r.code, `Copy(${p}): ${r.message}`).toBe(status.PERMISSION_DENIED);
    }
  } finally {
    admin.close();
  }
  // nodectl support, the bundle users attach to bug reports: every entry of the tar.gz and the whole tar stream.
  const bundle = join(work, "support.tar.gz");
  const r = await nodectl(["-n", node.address, "support", "--output", bundle], cluster.env, 120_000);
  expect(r.code, show(r)).toBe(0);
  const entries = await archiveTexts("nodectl support", readFileSync(bundle));
  expect(entries.some((e) => e.where.endsWith("logs/apid.log") && e.text.length > 0), entries.map((e) => e.where).join(", ")).toBe(true);
  out.push(...entries);
  return out;
}

/** Trees whose Copy is searched: everything an admin may read on a process-mode node. */
const COPY_ROOTS = ["/var", "/etc", "/run", "/sys", "/proc/self"];

/** The tar.gz Copy streams for `path`. */
async function copyArchive(c: MachineClient, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const ch of c.copy(path)) chunks.push(Buffer.from(ch.data));
  return Buffer.concat(chunks);
}

let archives = 0;
/** Every file of a tar.gz as text (where: "<what> <entry name>"), and the whole decompressed tar stream (names, link targets, headers). */
async function archiveTexts(what: string, gz: Buffer): Promise<{ where: string; text: string }[]> {
  const path = join(work, `archive-${archives++}.tar.gz`);
  writeFileSync(path, gz);
  const files = await readTarGz(path);
  return [...[...files].map(([name, b]) => ({ where: `${what} ${name}`, text: b.toString("latin1") })), { where: `${what} (whole tar, ${files.size} files)`, text: gunzipSync(gz).toString("latin1") }];
}

describe("private keys never leave the node", () => {
  it("are absent from the logs, GetConfiguration, Events, Read of every listed file, Copy archives, the nodectl support bundle, and apply errors", async () => {
    // Controls: the search finds a key in node.yaml (PEM in YAML), base64-wrapped and JSON-escaped.
    expect(keys.findIn(cluster.nodeYaml)).toContain("CA key");
    const adminKey = certs.get("os:admin")?.keyPem ?? "";
    expect(keys.findIn(Buffer.from(adminKey).toString("base64"))).toContain("client key (os:admin)");
    expect(keys.findIn(JSON.stringify({ k: adminKey }).replace("PRIVATE KEY-----", ""))).toContain("client key (os:admin)");
    // ... and inside archives: a key in a tar.gz written by the node's own Copy, and in a support bundle's format, is found once decompressed.
    const planted = new KeyMaterial();
    const plantedKey = issueClientCert(cluster.secrets.ca, { commonName: "planted", roles: [] }).keyPem;
    planted.add("planted key", plantedKey);
    mkdirSync(join(nodeDir, "var/audit-control"), { recursive: true });
    writeFileSync(join(nodeDir, "var/audit-control/key.b64"), Buffer.from(plantedKey).toString("base64"));
    const admin = new MachineClient(node.address, certs.get("os:admin")?.creds as ChannelCredentials, 20_000);
    try {
      const copied = await archiveTexts("Copy(/var/audit-control)", await copyArchive(admin, "/var/audit-control"));
      expect(copied.flatMap((t) => planted.findIn(t.text).map((k) => `${k} in ${t.where}`))).toEqual(["planted key in Copy(/var/audit-control) var/audit-control/key.b64", "planted key in Copy(/var/audit-control) (whole tar, 1 files)"]);
    } finally {
      admin.close();
      rmSync(join(nodeDir, "var/audit-control"), { recursive: true });
    }
    const controlBundle = join(work, "control-support.tar.gz");
    await writeSupportArchive(controlBundle, [{ node: "control", reachable: true, files: [{ name: "logs/x.log", content: `line ${Buffer.from(plantedKey).toString("base64")}` }], failures: [], notes: [] }]);
    expect((await archiveTexts("control bundle", readFileSync(controlBundle))).some((t) => planted.findIn(t.text).includes("planted key"))).toBe(true);
    const texts = await harvest();
    // The node's own output, captured from its first line (pino JSON), after all of the above.
    texts.push({ where: "machined stdout+stderr", text: node.recorded() });
    const leaks = texts.flatMap((t) => keys.findIn(t.text).map((k) => `${k} in ${t.where}`));
    const read = texts.filter((t) => t.where.startsWith("Read(") && !t.where.includes("refused")).length;
    const copied = texts.filter((t) => t.where.startsWith("Copy(") && !t.where.includes("(whole tar") && !t.where.endsWith(" failed")).length;
    const bundled = texts.filter((t) => t.where.startsWith("nodectl support ") && !t.where.includes("(whole tar")).length;
    console.log(`key search: ${texts.length} sources (${read} files read, ${copied} files from Copy archives, ${bundled} files of the support bundle), ${node.recorded().length} bytes of machined output`);
    const perArchive = new Map<string, number>();
    for (const t of texts) {
      const m = /^(Copy\([^)]*\)(?: as os:reader)?|nodectl support) /.exec(t.where);
      if (m && !t.where.includes("(whole tar") && !t.where.endsWith(" failed")) perArchive.set(m[1] as string, (perArchive.get(m[1] as string) ?? 0) + 1);
    }
    console.log(`files searched per archive: ${JSON.stringify(Object.fromEntries(perArchive))}; not copied: ${texts.filter((t) => t.where.includes("failed")).map((t) => `${t.where}: ${t.text}`).join("; ") || "none"}`);
    expect(leaks).toEqual([]);
    expect(read).toBeGreaterThanOrEqual(3);
    expect(copied).toBeGreaterThanOrEqual(3);
    expect(bundled).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
