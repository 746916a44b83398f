import { CairnError } from "../../errors/index.js";

/** How long the server may take to answer the request (headers); the body then streams as fast as it comes. */
const RESPONSE_TIMEOUT_MS = 30_000;

/**
 * Streams a bundle from an http(s) URL: the node's side of `nodectl upgrade
 * --url`. Only http and https; any status other than 200 is refused with
 * the status line; a network failure is UNAVAILABLE naming the URL. The
 * bytes go through the same spool and streaming verifier as an upload.
 */
export async function* fetchBundle(url: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CairnError("INVALID_ARGUMENT", `url: "${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CairnError("INVALID_ARGUMENT", `url: ${parsed.protocol.replace(/:$/, "")} is not supported, only http and https`);
  }
  const where = `${parsed.origin}${parsed.pathname}`;
  const noAnswer = new AbortController();
  const timer = setTimeout(() => noAnswer.abort(new Error(`no answer within ${RESPONSE_TIMEOUT_MS / 1000} s`)), RESPONSE_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(parsed, { redirect: "follow", signal: signal ? AbortSignal.any([signal, noAnswer.signal]) : noAnswer.signal });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new CairnError("UNAVAILABLE", `download ${where}: ${cause}`);
  } finally {
    clearTimeout(timer);
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new CairnError("FAILED_PRECONDITION", `download ${where}: server answered ${res.status} ${res.statusText}`.trim());
  }
  const reader = res.body.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (e) {
        throw new CairnError("UNAVAILABLE", `download ${where}: the transfer broke off: ${(e as Error).message}`);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
