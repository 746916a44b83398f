import http from "node:http";
import https from "node:https";
import { CairnError } from "../../errors/index.js";

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: http.IncomingMessage;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

export interface GetOptions {
  readonly headers?: Record<string, string>;
  /** PEM CA bundle trusted for https (replaces the system roots for this registry). */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

const MAX_REDIRECTS = 5;

/**
 * One HTTP(S) GET with redirects followed (registries send blob downloads to a
 * storage URL). Authorization is dropped when a redirect leaves the origin, so
 * registry credentials never reach the storage host. The body is left unread.
 */
export async function httpGet(url: string, opts: GetOptions = {}): Promise<HttpResponse> {
  let current = new URL(url);
  let headers = { ...opts.headers };
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await once(current, headers, opts);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.resume();
      const next = new URL(location, current);
      if (next.origin !== current.origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
      }
      current = next;
      continue;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: res, url: current.toString() };
  }
  throw new CairnError("UNAVAILABLE", `GET ${url}: more than ${MAX_REDIRECTS} redirects`);
}

function once(url: URL, headers: Record<string, string>, opts: GetOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.get(url, { headers, ...(url.protocol === "https:" && opts.ca ? { ca: opts.ca } : {}) }, resolve);
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
    req.on("error", (e) => reject(new CairnError("UNAVAILABLE", `GET ${url.origin}${url.pathname}: ${e.message}`, { cause: e })));
  });
}

/** Reads a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) {
      res.body.destroy();
      throw new CairnError("FAILED_PRECONDITION", `GET ${res.url}: body larger than ${limit} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
