import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { CairnError } from "../../errors/index.js";

/**
 * A small etcd v3 client over etcd's JSON gRPC gateway (POST /v3/...), the
 * same API as gRPC, translated by grpc-gateway inside etcd itself on the
 * client port (etcd 3.4 and later). Keys and values are base64 on the wire;
 * int64s are strings, and lease ids stay strings here (they exceed 2^53).
 */

export interface EtcdTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string;
}

/** One change from etcd's history (a watch from a past revision). */
export interface WatchEvent {
  readonly type: "PUT" | "DELETE";
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
}

export type Compare =
  | { target: "CREATE"; key: string; result: "EQUAL" | "GREATER" | "LESS"; createRevision: number; rangeEnd?: string }
  | { target: "MOD"; key: string; result: "EQUAL" | "GREATER" | "LESS"; modRevision: number; rangeEnd?: string }
  | { target: "VERSION"; key: string; result: "EQUAL" | "GREATER" | "LESS"; version: number; rangeEnd?: string };

export type TxnOp = { put: { key: string; value: string; lease?: string } } | { delete: { key: string } };

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, "base64").toString("utf8") : "");

/** The end of the range holding every key that starts with `prefix` (etcd's prefix convention; ASCII prefixes). */
export function prefixEnd(prefix: string): string {
  if (!/^[\x20-\x7e]+$/.test(prefix)) throw new CairnError("INVALID_ARGUMENT", `etcd prefix ${JSON.stringify(prefix)}: must be printable ASCII`);
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}
const kv = (r: RawKv): KeyValue => ({ key: unb64(r.key), value: unb64(r.value), createRevision: Number(r.create_revision ?? 0), modRevision: Number(r.mod_revision ?? 0), lease: r.lease ?? "0" });

export class EtcdClient {
  constructor(
    private readonly endpoints: readonly string[],
    private readonly tls: EtcdTls = {},
    private readonly timeoutMs = 5_000,
  ) {
    if (endpoints.length === 0) throw new CairnError("INVALID_ARGUMENT", "etcd: no endpoints");
  }

  /** POSTs to each endpoint in turn until one answers; etcd errors (non-200) are not retried elsewhere. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    let last: unknown;
    for (const ep of this.endpoints) {
      try {
        const res = await this.open(ep, path, body, this.timeoutMs);
        const text = await readAll(res);
        const json = (text ? JSON.parse(text) : {}) as T & { error?: string; message?: string; code?: number };
        if (res.statusCode !== 200) throw new CairnError(res.statusCode === 404 ? "NOT_FOUND" : "UNAVAILABLE", `etcd ${path}: ${json.message ?? json.error ?? `HTTP ${res.statusCode}`}`);
        return json;
      } catch (e) {
        if (e instanceof CairnError) throw e;
        last = e;
      }
    }
    throw new CairnError("UNAVAILABLE", `etcd ${path}: no endpoint answered (${this.endpoints.join(", ")}): ${(last as Error)?.message ?? last}`, { cause: last });
  }

  private open(endpoint: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(path, endpoint);
    const https = url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      ...(https ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : {}),
      signal,
    });
    return new Promise((resolve, reject) => {
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on("response", resolve);
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  }

  /** Keys in [key, rangeEnd) (or just key), at the current revision; also returns that revision. */
  async range(key: string, rangeEnd?: string): Promise<{ kvs: KeyValue[]; revision: number }> {
    const r = await this.call<{ header: { revision: string }; kvs?: RawKv[] }>("/v3/kv/range", { key: b64(key), ...(rangeEnd ? { range_end: b64(rangeEnd) } : {}) });
    return { kvs: (r.kvs ?? []).map(kv), revision: Number(r.header.revision) };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const r = await this.call<{ header: { revision: string } }>("/v3/kv/put", { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
    return Number(r.header.revision);
  }

  /** Compare-and-swap: all compares hold → success ops, else failure ops. */
  async txn(compare: readonly Compare[], success: readonly TxnOp[], failure: readonly TxnOp[] = []): Promise<{ succeeded: boolean; revision: number }> {
    const cmp = compare.map((c) => ({
      target: c.target,
      key: b64(c.key),
      result: c.result,
      ...(c.rangeEnd ? { range_end: b64(c.rangeEnd) } : {}),
      ...(c.target === "CREATE" ? { create_revision: String(c.createRevision) } : c.target === "MOD" ? { mod_revision: String(c.modRevision) } : { version: String(c.version) }),
    }));
    const op = (o: TxnOp) =>
      "put" in o ? { request_put: { key: b64(o.put.key), value: b64(o.put.value), ...(o.put.lease ? { lease: o.put.lease } : {}) } } : { request_delete_range: { key: b64(o.delete.key) } };
    const r = await this.call<{ header: { revision: string }; succeeded?: boolean }>("/v3/kv/txn", { compare: cmp, success: success.map(op), failure: failure.map(op) });
    return { succeeded: r.succeeded === true, revision: Number(r.header.revision) };
  }

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const r = await this.call<{ ID: string; TTL: string }>("/v3/lease/grant", { TTL: ttlSeconds });
    return { id: r.ID, ttl: Number(r.TTL) };
  }

  /** One keep-alive round; returns the remaining TTL, 0 when the lease is gone (expired or revoked). */
  async leaseKeepAlive(id: string): Promise<number> {
    const r = await this.call<{ result?: { TTL?: string } }>("/v3/lease/keepalive", { ID: id });
    return Number(r.result?.TTL ?? 0);
  }

  /** Revokes a lease, deleting every key attached to it; a lease already gone is fine. */
  async leaseRevoke(id: string): Promise<void> {
    await this.call("/v3/kv/lease/revoke", { ID: id }).catch((e: unknown) => {
      if (!(e instanceof CairnError && /lease not found/.test(e.message))) throw e;
    });
  }

  /**
   * The recorded history of keys under `prefix` from `fromRevision` on, read
   * with a watch that starts in the past (etcd keeps every revision until
   * compaction). To know when the past is over it first writes a mark key
   * under the prefix and reads until the mark's own event; the mark is not
   * returned. For tests and audits, not for hot paths.
   */
  async history(prefix: string, fromRevision: number): Promise<WatchEvent[]> {
    const markKey = `${prefix}.history-mark`;
    const mark = await this.put(markKey, new Date().toISOString());
    const stop = new AbortController();
    const res = await this.open(this.endpoints[0]!, "/v3/watch", { create_request: { key: b64(prefix), range_end: b64(prefixEnd(prefix)), start_revision: String(fromRevision) } }, 10_000, stop.signal);
    const events: WatchEvent[] = [];
    let buf = "";
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        buf += chunk.toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line) as { result?: { events?: { type?: string; kv: RawKv }[] }; error?: { message?: string } };
          if (msg.error) throw new CairnError("UNAVAILABLE", `etcd watch: ${msg.error.message ?? JSON.stringify(msg.error)}`);
          for (const e of msg.result?.events ?? []) {
            const k = kv(e.kv);
            if (k.key === markKey) {
              if (k.modRevision >= mark) return events;
              continue;
            }
            events.push({ type: e.type === "DELETE" ? "DELETE" : "PUT", key: k.key, value: k.value, modRevision: k.modRevision });
          }
        }
      }
    } finally {
      stop.abort();
    }
    throw new CairnError("UNAVAILABLE", "etcd watch ended before the history was read");
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}
