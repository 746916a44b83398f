import { CairnError } from "../../errors/index.js";
import type { UpdateConfig } from "../../machinery/config/update-schema.js";
import { EtcdClient, FleetLockClient, RebootSemaphore, type Holder, type HolderState } from "../../machinery/fleet/index.js";

/**
 * How a node under `reboot.strategy: coordinated` asks the fleet for a
 * reboot slot: the etcd semaphore (with bad marks) or a FleetLock server
 * (no bad marks: a node that rolled back just never sends steady-state).
 */
export interface RebootCoordinator {
  readonly kind: "etcd" | "fleetlock";
  /** One attempt; false when every slot is taken. FAILED_PRECONDITION when `version` is marked bad. */
  tryAcquire(version: string): Promise<boolean>;
  /** Takes up a slot held before a reboot (keep-alives again); false when it is gone. */
  resume(): Promise<boolean>;
  /** Gives the slot back. */
  release(): Promise<void>;
  /** Versions the fleet marked bad. */
  badVersions(): Promise<Map<string, string>>;
  /** Marks a release bad, naming why (etcd only). */
  markBad(version: string, reason: string): Promise<void>;
  /** What to persist to resume the slot after a reboot. */
  readonly holderState: HolderState | undefined;
  readonly holding: boolean;
  /** Stops keep-alives without releasing (the boot ends; the next one resumes). */
  close(): void;
}

export class EtcdCoordinator implements RebootCoordinator {
  readonly kind = "etcd" as const;
  private readonly sem: RebootSemaphore;
  private holder: Holder | undefined;

  constructor(
    cfg: NonNullable<NonNullable<UpdateConfig["coordination"]>["etcd"]>,
    reboot: UpdateConfig["reboot"],
    id: string,
    private saved: HolderState | undefined,
    private readonly onLost: (why: string) => void,
  ) {
    const etcd = new EtcdClient(cfg.endpoints, { ...(cfg.ca ? { ca: cfg.ca } : {}), ...(cfg.cert ? { cert: cfg.cert } : {}), ...(cfg.key ? { key: cfg.key } : {}) });
    this.sem = new RebootSemaphore(etcd, { prefix: cfg.prefix, max: reboot.maxConcurrent, ttlSeconds: reboot.lockTTLSeconds, id });
  }

  get holderState(): HolderState | undefined {
    return this.holder?.state ?? this.saved;
  }

  get holding(): boolean {
    return this.holder !== undefined || this.saved !== undefined;
  }

  async tryAcquire(version: string): Promise<boolean> {
    let h: Holder | undefined;
    try {
      h = await this.sem.tryAcquire(version);
    } catch (e) {
      // A slot left from before (its state lost) is this node's: resume it rather than wait for its lease.
      if (!(e instanceof CairnError && e.code === "ALREADY_EXISTS")) throw e;
      const mine = (await this.sem.holders()).find((x) => x.id === this.sem.opts.id);
      if (!mine) return false;
      h = await this.sem.resume({ id: mine.id, version: mine.version, leaseId: mine.leaseId, key: this.sem.holderKey });
    }
    if (!h) return false;
    this.hold(h);
    return true;
  }

  async resume(): Promise<boolean> {
    if (this.holder) return true;
    if (!this.saved) return false;
    const h = await this.sem.resume(this.saved);
    this.saved = undefined;
    if (!h) return false;
    this.hold(h);
    return true;
  }

  private hold(h: Holder): void {
    this.holder = h;
    h.startKeepAlive((why) => {
      this.holder = undefined;
      this.onLost(why);
    });
  }

  async release(): Promise<void> {
    const h = this.holder;
    this.saved = undefined;
    if (!h) return;
    await h.release();
    this.holder = undefined;
  }

  async badVersions(): Promise<Map<string, string>> {
    return new Map([...(await this.sem.badVersions())].map(([v, m]) => [v, `marked bad by ${m.by}: ${m.reason}`]));
  }

  markBad(version: string, reason: string): Promise<void> {
    return this.sem.markBad(version, reason);
  }

  close(): void {
    this.holder?.stopKeepAlive();
  }
}

export class FleetLockCoordinator implements RebootCoordinator {
  readonly kind = "fleetlock" as const;
  readonly holderState = undefined;
  private readonly client: FleetLockClient;

  constructor(
    cfg: NonNullable<NonNullable<UpdateConfig["coordination"]>["fleetLock"]>,
    id: string,
    private held: boolean,
  ) {
    this.client = new FleetLockClient(cfg.url, { id, group: cfg.group });
  }

  get holding(): boolean {
    return this.held;
  }

  async tryAcquire(): Promise<boolean> {
    try {
      await this.client.preReboot();
    } catch (e) {
      if (e instanceof CairnError && e.code === "UNAVAILABLE") return false;
      throw e;
    }
    this.held = true;
    return true;
  }

  /** The server keeps a granted slot until steady-state: nothing to renew. */
  async resume(): Promise<boolean> {
    return this.held;
  }

  async release(): Promise<void> {
    await this.client.steadyState();
    this.held = false;
  }

  async badVersions(): Promise<Map<string, string>> {
    return new Map();
  }

  /** FleetLock has no bad marks: the slot this node keeps is what halts the group. */
  async markBad(): Promise<void> {}

  close(): void {}
}

/** The coordinator machine.update asks for, if any. */
export function coordinatorFor(cfg: UpdateConfig, id: string, saved: { holder?: HolderState; fleetLockHeld?: boolean }, onLost: (why: string) => void): RebootCoordinator | undefined {
  const c = cfg.coordination;
  if (c?.etcd) return new EtcdCoordinator(c.etcd, cfg.reboot, id, saved.holder, onLost);
  if (c?.fleetLock) return new FleetLockCoordinator(c.fleetLock, id, saved.fleetLockHeld ?? false);
  return undefined;
}
