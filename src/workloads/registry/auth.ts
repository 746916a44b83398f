import { CairnError } from "../../errors/index.js";
import { httpGet, readBody, type GetOptions } from "./http.js";

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A parsed `WWW-Authenticate` challenge: `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(header: string): Challenge {
  const sp = header.indexOf(" ");
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(sp + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

/**
 * Answers a registry's 401 challenge with an Authorization header value:
 * Basic with the configured credentials, or Bearer with a token fetched from
 * the challenge's realm (with the credentials when there are any, anonymous
 * otherwise), as the distribution token spec describes.
 */
export async function answerChallenge(
  header: string,
  creds: Credentials | undefined,
  fallbackScope: string,
  opts: Pick<GetOptions, "ca" | "timeoutMs">,
): Promise<string> {
  const ch = parseChallenge(header);
  if (ch.scheme === "basic") {
    if (!creds) throw new CairnError("UNAUTHENTICATED", "registry asks for a username and password; none configured");
    return basicAuth(creds);
  }
  if (ch.scheme !== "bearer" || !ch.params.realm) {
    throw new CairnError("UNAUTHENTICATED", `registry auth scheme not supported: ${ch.scheme}`);
  }
  const url = new URL(ch.params.realm);
  if (ch.params.service) url.searchParams.set("service", ch.params.service);
  url.searchParams.set("scope", ch.params.scope ?? fallbackScope);
  const res = await httpGet(url.toString(), { ...opts, headers: creds ? { authorization: basicAuth(creds) } : {} });
  const body = await readBody(res, 1024 * 1024);
  if (res.status !== 200) {
    throw new CairnError("UNAUTHENTICATED", `registry token endpoint ${url.origin}${url.pathname}: HTTP ${res.status}`);
  }
  const json = JSON.parse(body.toString("utf8")) as { token?: string; access_token?: string };
  const token = json.token ?? json.access_token;
  if (!token) throw new CairnError("UNAUTHENTICATED", `registry token endpoint ${url.origin}${url.pathname}: no token in answer`);
  return `Bearer ${token}`;
}
