import type { IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { CairnError } from "../../errors/index.js";

/** How long the server may take to answer the request (headers); the body then streams as fast as it comes. */
const RESPONSE_TIMEOUT_MS = 30_000;
/** Redirects followed before giving up (a release mirror may redirect once or twice). */
const MAX_REDIRECTS = 5;

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CairnError("INVALID_ARGUMENT", `url: "${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CairnError("INVALID_ARGUMENT", `url: ${parsed.protocol.replace(/:$/, "")} is not supported, only http and https`);
  }
  return parsed;
}

/** One GET; resolves with the response whatever its status. */
function get(u: URL, where: string, signal?: AbortSignal): Promise<IncomingMessage> {
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: "GET", ...(signal ? { signal } : {}) }, resolve);
    req.setTimeout(RESPONSE_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${RESPONSE_TIMEOUT_MS / 1000} s`)));
    req.on("error", (e) => reject(new CairnError("UNAVAILABLE", `download ${where}: ${e.message}`)));
    req.end();
  });
}

/**
 * Streams a bundle from an http(s) URL: the node's side of `nodectl upgrade
 * --url`. Only http and https; any status other than 200 is refused with
 * the status line; a network failure is UNAVAILABLE naming the URL. The
 * bytes go through the same spool and streaming verifier as an upload.
 * node:http rather than fetch: PID 1 runs jitless (--lite-mode), where
 * fetch's wasm HTTP parser does not exist.
 */
export async function* fetchBundle(url: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  let u = parseUrl(url);
  let where = `${u.origin}${u.pathname}`;
  let res = await get(u, where, signal);
  for (let hops = 0; res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location; hops++) {
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new CairnError("FAILED_PRECONDITION", `download ${where}: more than ${MAX_REDIRECTS} redirects`);
    u = parseUrl(new URL(res.headers.location, u).toString());
    where = `${u.origin}${u.pathname}`;
    res = await get(u, where, signal);
  }
  if (res.statusCode !== 200) {
    res.resume();
    throw new CairnError("FAILED_PRECONDITION", `download ${where}: server answered ${res.statusCode ?? "?"} ${res.statusMessage ?? ""}`.trim());
  }
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) yield chunk;
  } catch (e) {
    throw new CairnError("UNAVAILABLE", `download ${where}: the transfer broke off: ${(e as Error).message}`);
  } finally {
    res.destroy();
  }
  if (!res.complete) throw new CairnError("UNAVAILABLE", `download ${where}: the transfer broke off before the end`);
}
