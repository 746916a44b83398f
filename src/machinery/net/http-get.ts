import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { CairnError } from "../../errors/index.js";

export interface HttpGetOptions {
  /** Extra CA certificates (PEM) for https, e.g. a fleet's own repository server. */
  readonly ca?: string | readonly string[];
  readonly signal?: AbortSignal;
  /** Gives up when no response headers arrived in this time. */
  readonly timeoutMs?: number;
}

/**
 * GETs an http(s) URL and resolves with the response stream once its status
 * is 200. node:http rather than fetch because it takes a per-request CA,
 * and it exists both on the host and in the image. Non-200 answers and
 * network errors become UNAVAILABLE naming the URL.
 */
export function httpGet(url: string, opts: HttpGetOptions = {}): Promise<IncomingMessage> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new CairnError("INVALID_ARGUMENT", `${url}: not a URL`));
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return Promise.reject(new CairnError("INVALID_ARGUMENT", `${url}: only http and https are supported`));
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const ca = opts.ca === undefined ? undefined : typeof opts.ca === "string" ? opts.ca : [...opts.ca];
    const req = request(u, { method: "GET", ...(ca && u.protocol === "https:" ? { ca } : {}), signal: opts.signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new CairnError("UNAVAILABLE", `GET ${url}: HTTP ${res.statusCode ?? "?"} ${res.statusMessage ?? ""}`.trim()));
        return;
      }
      resolve(res);
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer in ${opts.timeoutMs ?? 30_000} ms`)));
    req.on("error", (e) => reject(new CairnError("UNAVAILABLE", `GET ${url}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/** GETs a small document (at most `maxBytes`) as text. */
export async function httpGetText(url: string, maxBytes: number, opts: HttpGetOptions = {}): Promise<string> {
  const res = await httpGet(url, opts);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > maxBytes) {
      res.destroy();
      throw new CairnError("INVALID_ARGUMENT", `GET ${url}: more than ${maxBytes} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}
