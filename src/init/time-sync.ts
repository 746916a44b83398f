import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import { encodeSntpRequest, offsetAndDelay, validateSntpReply } from "../machinery/time/sntp-packet.js";
import type { EventBus } from "./event-bus.js";

/** What `get time` shows. */
export interface TimeSyncStatus {
  readonly servers: readonly string[];
  /** True after an exchange succeeded within the last few polls. */
  readonly synced: boolean;
  /** Local clock minus server clock at the last exchange, before any step (seconds; positive = server ahead). */
  readonly offsetSeconds: number;
  readonly delaySeconds: number;
  /** The server of the last good exchange. */
  readonly server: string;
  readonly stratum: number;
  readonly lastSyncUnixMs: number;
  /** How often the clock was stepped this boot. */
  readonly steps: number;
  readonly lastError: string;
}

export interface TimeSyncDeps {
  /** Steps the system clock (CLOCK_REALTIME) to a Unix time in ms. */
  setClock(unixMs: number): Promise<void>;
  readonly events: EventBus;
  readonly log: Logger;
  /** Poll period once synced; default 64 s (NTP's minimum poll). */
  readonly pollMs?: number;
  /** Per-server answer timeout; default 2 s. */
  readonly timeoutMs?: number;
}

/** Offsets below this are left alone: stepping for less costs more than it fixes (ntpd's step threshold is 128 ms). */
const STEP_THRESHOLD_MS = 100;
const NTP_PORT = 123;

/** "host", "host:port", "[v6]:port" or a bare IPv6 address → host and port. */
export function parseTimeServer(server: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6) return { host: v6[1] as string, port: v6[2] ? Number(v6[2]) : NTP_PORT };
  if (isIPv6(server)) return { host: server, port: NTP_PORT };
  const i = server.lastIndexOf(":");
  if (i > 0 && /^\d+$/.test(server.slice(i + 1))) return { host: server.slice(0, i), port: Number(server.slice(i + 1)) };
  return { host: server, port: NTP_PORT };
}

/** One SNTP exchange with a server: resolves offset and delay (ms), or rejects naming what went wrong. */
export function querySntp(server: string, timeoutMs: number): Promise<{ offsetMs: number; delayMs: number; stratum: number }> {
  const { host, port } = parseTimeServer(server);
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(host) ? "udp6" : "udp4");
    let t1 = 0;
    let request: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: { offsetMs: number; delayMs: number; stratum: number }) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new Error(`${server}: no answer within ${timeoutMs} ms`)), timeoutMs);
    sock.on("error", (e) => done(new Error(`${server}: ${e.message}`)));
    sock.on("message", (msg) => {
      const t4 = Date.now();
      try {
        const r = validateSntpReply(msg, request);
        done(undefined, { ...offsetAndDelay(t1, r.receiveMs, r.transmitMs, t4), stratum: r.stratum });
      } catch (e) {
        // A stray or bad datagram: say why, keep the first problem.
        done(new Error(`${server}: ${(e as Error).message}`));
      }
    });
    t1 = Date.now();
    request = encodeSntpRequest(t1);
    sock.send(request, port, host, (e) => e && done(new Error(`${server}: send: ${e.message}`)));
  });
}

/**
 * The time controller: an SNTP client (RFC 4330) polling the configured
 * servers in order. The first good answer wins; an offset above 100 ms
 * steps the clock through the platform (clock_settime on metal). Reports
 * synced, offset, server and last sync; emits time.synced / time.unsynced.
 */
export class TimeSync {
  #servers: readonly string[] = [];
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #status: Omit<TimeSyncStatus, "servers" | "synced"> = { offsetSeconds: 0, delaySeconds: 0, server: "", stratum: 0, lastSyncUnixMs: 0, steps: 0, lastError: "" };
  #synced = false;

  constructor(private readonly deps: TimeSyncDeps) {}

  get status(): TimeSyncStatus {
    return { ...this.#status, servers: this.#servers, synced: this.#synced };
  }

  /** (Re)starts polling `servers`; an empty list stops it. */
  configure(servers: readonly string[]): void {
    if (JSON.stringify(servers) === JSON.stringify(this.#servers)) return;
    this.#servers = [...servers];
    this.#generation++;
    this.#failures = 0;
    clearTimeout(this.#timer);
    if (this.#synced) this.#setSynced(false, "time servers changed");
    if (servers.length > 0) this.#schedule(0);
  }

  close(): void {
    this.#generation++;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    const gen = this.#generation;
    this.#timer = setTimeout(() => void this.#poll(gen), ms);
    this.#timer.unref();
  }

  async #poll(gen: number): Promise<void> {
    const errors: string[] = [];
    for (const server of this.#servers) {
      try {
        const r = await querySntp(server, this.deps.timeoutMs ?? 2000);
        if (gen !== this.#generation) return;
        let steps = this.#status.steps;
        if (Math.abs(r.offsetMs) > STEP_THRESHOLD_MS) {
          await this.deps.setClock(Date.now() + r.offsetMs);
          steps++;
          this.deps.log.info({ server, offsetMs: Math.round(r.offsetMs) }, "clock stepped");
        }
        this.#status = { offsetSeconds: r.offsetMs / 1000, delaySeconds: r.delayMs / 1000, server, stratum: r.stratum, lastSyncUnixMs: Date.now(), steps, lastError: "" };
        this.#failures = 0;
        if (!this.#synced) this.#setSynced(true, `synced with ${server}`, { server, offsetSeconds: (r.offsetMs / 1000).toFixed(3) });
        this.#schedule(this.deps.pollMs ?? 64_000);
        return;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (gen !== this.#generation) return;
    this.#failures++;
    this.#status = { ...this.#status, lastError: errors.join("; ") };
    this.deps.log.warn({ errors }, "no time server answered");
    // Three missed polls in a row: the clock is on its own now.
    if (this.#synced && this.#failures >= 3) this.#setSynced(false, "no time server answered three times in a row");
    this.#schedule(Math.min(2000 * 2 ** Math.min(this.#failures, 5), this.deps.pollMs ?? 64_000));
  }

  #setSynced(synced: boolean, message: string, fields: Record<string, string> = {}): void {
    this.#synced = synced;
    this.deps.events.publish(synced ? "time.synced" : "time.unsynced", message, fields);
  }
}
