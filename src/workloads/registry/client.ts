import { CairnError } from "../../errors/index.js";
import type { ImageReference } from "../oci/reference.js";
import { answerChallenge, type Credentials } from "./auth.js";
import { httpGet, type HttpResponse } from "./http.js";

/** How to reach one registry (machine.registries.<host> in the config). */
export interface RegistryAccess {
  /** Base URL; default `https://<host>`. */
  readonly endpoint?: string;
  /** PEM CA bundle for a registry with its own CA. */
  readonly ca?: string;
  readonly username?: string;
  readonly password?: string;
}

/**
 * A read-only client of the OCI distribution API for one repository: GET of
 * manifests and blobs, answering 401 challenges once and reusing the header.
 */
export class RegistryClient {
  private authorization: string | undefined;
  private readonly base: string;
  private readonly creds: Credentials | undefined;

  constructor(
    private readonly ref: ImageReference,
    private readonly access: RegistryAccess = {},
  ) {
    const host = ref.registry === "docker.io" ? "registry-1.docker.io" : ref.registry;
    this.base = (access.endpoint ?? `https://${host}`).replace(/\/+$/, "");
    this.creds = access.username !== undefined ? { username: access.username, password: access.password ?? "" } : undefined;
  }

  /** GET /v2/<repo>/manifests/<ref> with every manifest type Cairn understands. */
  manifest(reference: string, accept: readonly string[]): Promise<HttpResponse> {
    return this.get(`manifests/${reference}`, { accept: accept.join(", ") });
  }

  /** GET /v2/<repo>/blobs/<digest>. */
  blob(digest: string): Promise<HttpResponse> {
    return this.get(`blobs/${digest}`, {});
  }

  private async get(path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const url = `${this.base}/v2/${this.ref.repository}/${path}`;
    const opts = { ...(this.access.ca ? { ca: this.access.ca } : {}), timeoutMs: 60_000 };
    const withAuth = (): Record<string, string> => (this.authorization ? { ...headers, authorization: this.authorization } : headers);
    let res = await httpGet(url, { ...opts, headers: withAuth() });
    if (res.status === 401) {
      res.body.resume();
      const challenge = res.headers["www-authenticate"];
      if (!challenge) throw new CairnError("UNAUTHENTICATED", `GET ${url}: HTTP 401 without a challenge`);
      this.authorization = await answerChallenge(challenge, this.creds, `repository:${this.ref.repository}:pull`, opts);
      res = await httpGet(url, { ...opts, headers: withAuth() });
      if (res.status === 401 && this.creds) {
        res.body.resume();
        throw new CairnError("PERMISSION_DENIED", `GET ${url}: HTTP 401: the registry refused the username and password configured for ${this.ref.registry}`);
      }
    }
    if (res.status !== 200) {
      res.body.resume();
      const code = res.status === 404 ? "NOT_FOUND" : res.status === 401 || res.status === 403 ? "PERMISSION_DENIED" : "UNAVAILABLE";
      throw new CairnError(code, `GET ${url}: HTTP ${res.status}`);
    }
    return res;
  }
}
