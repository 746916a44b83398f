import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { CairnError } from "../../errors/index.js";

/**
 * FleetLock (the HTTP reboot-lock protocol of Fedora CoreOS's Zincati):
 *   POST <base>/v1/pre-reboot    take a reboot slot (recursive: again is fine)
 *   POST <base>/v1/steady-state  give it back if held (sent once the node is up)
 * with header `fleet-lock-protocol: true` and body
 * {"client_params":{"id":"<node id>","group":"<group>"}}. 200 is success;
 * anything else is failure, with a body {"kind":"...","value":"..."}.
 */
export const FLEETLOCK_HEADER = "fleet-lock-protocol";
export const FLEETLOCK_GROUP = /^[a-zA-Z0-9.-]+$/;

export interface FleetLockParams {
  readonly id: string;
  readonly group: string;
}

export class FleetLockClient {
  constructor(
    private readonly baseUrl: string,
    private readonly params: FleetLockParams,
    private readonly opts: { ca?: string; timeoutMs?: number } = {},
  ) {
    if (!FLEETLOCK_GROUP.test(params.group)) throw new CairnError("INVALID_ARGUMENT", `fleetlock group ${JSON.stringify(params.group)}: must match ${FLEETLOCK_GROUP.source}`);
    if (params.id === "") throw new CairnError("INVALID_ARGUMENT", "fleetlock id: empty");
  }

  /** Takes a reboot slot; throws UNAVAILABLE with the server's kind and value when it is refused. */
  preReboot(): Promise<void> {
    return this.post("/v1/pre-reboot");
  }

  /** Gives the slot back (or does nothing if none is held). */
  steadyState(): Promise<void> {
    return this.post("/v1/steady-state");
  }

  private post(path: string): Promise<void> {
    const url = new URL(path.slice(1), this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    const https = url.protocol === "https:";
    const body = JSON.stringify({ client_params: { id: this.params.id, group: this.params.group } });
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method: "POST", headers: { [FLEETLOCK_HEADER]: "true", "content-type": "application/json" }, ...(https && this.opts.ca ? { ca: this.opts.ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode === 200) return resolve();
            const text = Buffer.concat(chunks).toString("utf8");
            let why = text.slice(0, 300);
            try {
              const e = JSON.parse(text) as { kind?: string; value?: string };
              if (e.kind) why = `${e.kind}: ${e.value ?? ""}`;
            } catch {
              // not the protocol's error body: show the raw text
            }
            reject(new CairnError("UNAVAILABLE", `fleetlock ${path} refused (HTTP ${res.statusCode}): ${why}`));
          });
        },
      );
      req.setTimeout(this.opts.timeoutMs ?? 10_000, () => req.destroy(new Error("no answer")));
      req.on("error", (e) => reject(new CairnError("UNAVAILABLE", `fleetlock ${url.href}: ${e.message}`, { cause: e })));
      req.end(body);
    });
  }
}
