import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isCairnError } from "../../errors/index.js";
import type { EtcdClient } from "./etcd-gateway.js";
import { FLEETLOCK_GROUP, FLEETLOCK_HEADER } from "./fleetlock-client.js";
import { RebootSemaphore, type Holder } from "./reboot-semaphore.js";

export interface FleetLockServerOptions {
  readonly etcd: EtcdClient;
  /** etcd prefix; each group gets its own semaphore below <prefix>/groups/<group>. */
  readonly prefix: string;
  /** Slots per group. */
  readonly max: number;
  /**
   * Lease TTL of a slot. The server keeps the leases of the slots it
   * granted alive, so a slot lasts until steady-state (as FleetLock wants)
   * but frees itself if this server dies and nobody resumes it.
   */
  readonly ttlSeconds: number;
}

/** FleetLock slots carry no release version; this stands in for it in the semaphore's keys. */
const FLEETLOCK_VERSION = "fleetlock";

/**
 * A small FleetLock server backed by the etcd reboot semaphore, so
 * Zincati-style clients and Cairn nodes can share one limit. Answers 200
 * or an error body {kind, value} as the protocol describes.
 */
export function createFleetLockServer(o: FleetLockServerOptions): Server {
  const held = new Map<string, Holder>(); // group/id → slot this server keeps alive
  const semaphore = (group: string, id: string) => new RebootSemaphore(o.etcd, { prefix: `${o.prefix.replace(/\/+$/, "")}/groups/${group}`, max: o.max, ttlSeconds: o.ttlSeconds, id });

  async function preReboot(group: string, id: string): Promise<void> {
    const sem = semaphore(group, id);
    const mine = (await sem.holders()).find((h) => h.id === id);
    if (mine) {
      // Recursive lock: already held (maybe granted before this server restarted).
      if (!held.has(`${group}/${id}`)) {
        const h = await sem.resume({ id, version: mine.version, leaseId: mine.leaseId, key: sem.holderKey });
        if (h) held.set(`${group}/${id}`, h);
      }
      return;
    }
    const h = await sem.tryAcquire(FLEETLOCK_VERSION);
    if (!h) throw Object.assign(new Error(`all ${o.max} reboot slots of group ${group} are taken`), { kind: "failed_lock_semaphore_full" });
    h.startKeepAlive(() => held.delete(`${group}/${id}`));
    held.set(`${group}/${id}`, h);
  }

  async function steadyState(group: string, id: string): Promise<void> {
    const sem = semaphore(group, id);
    const mine = (await sem.holders()).find((h) => h.id === id);
    held.get(`${group}/${id}`)?.stopKeepAlive();
    held.delete(`${group}/${id}`);
    if (mine) await o.etcd.leaseRevoke(mine.leaseId);
  }

  const fail = (res: ServerResponse, status: number, kind: string, value: string) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ kind, value }));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const op = path === "/v1/pre-reboot" ? preReboot : path === "/v1/steady-state" ? steadyState : undefined;
    if (!op || req.method !== "POST") return fail(res, 404, "not_found", `${req.method} ${path}: only POST /v1/pre-reboot and /v1/steady-state`);
    if (req.headers[FLEETLOCK_HEADER] !== "true") return fail(res, 400, "missing_fleetlock_header", `header ${FLEETLOCK_HEADER}: true is required`);
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    let id: unknown;
    let group: unknown;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { client_params?: { id?: unknown; group?: unknown } };
      id = body.client_params?.id;
      group = body.client_params?.group;
    } catch {
      return fail(res, 400, "invalid_body", "body must be JSON {client_params:{id,group}}");
    }
    if (typeof id !== "string" || !/^[A-Za-z0-9._-]+$/.test(id)) return fail(res, 400, "invalid_client_params", "client_params.id must be letters, digits, '.', '_' or '-'");
    if (typeof group !== "string" || !FLEETLOCK_GROUP.test(group)) return fail(res, 400, "invalid_client_params", `client_params.group must match ${FLEETLOCK_GROUP.source}`);
    try {
      await op(group, id);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch (e) {
      const kind = (e as { kind?: string }).kind;
      if (kind) return fail(res, 409, kind, (e as Error).message);
      fail(res, 503, "failed_lock_backend", isCairnError(e) ? e.message : String(e));
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.on("close", () => {
    for (const h of held.values()) h.stopKeepAlive();
    held.clear();
  });
  return server;
}
