import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../../errors/index.js";
import { prefixEnd, type EtcdClient } from "./etcd-gateway.js";

/**
 * The fleet's reboot semaphore in etcd. Layout under `prefix`:
 *   <prefix>/holders/<node id>   {id, version, at}, attached to the holder's lease
 *   <prefix>/bad/<version>       {by, reason, at}, no lease: stays until an operator deletes it
 *
 * Acquiring is one transaction: it succeeds only if no holder key changed
 * since the count was read (a MOD compare over the whole holders range),
 * this node holds no slot yet, and the version is not marked bad. So two
 * nodes racing for the last slot cannot both win, whatever the timing. A
 * holder that dies stops its keep-alives; etcd deletes its key when the
 * lease expires and the slot is free again.
 */

export interface SemaphoreOptions {
  /** Key prefix shared by the fleet, e.g. /cairn/fleet. */
  readonly prefix: string;
  /** Most holders at once. */
  readonly max: number;
  /** Lease TTL: how long a silent holder keeps its slot. Must cover a reboot. */
  readonly ttlSeconds: number;
  /** This node's id (machine id or hostname); one slot per id. */
  readonly id: string;
}

/** What a holder persists before rebooting, to resume keep-alives and release after the new boot. */
export interface HolderState {
  readonly id: string;
  readonly version: string;
  readonly leaseId: string;
  readonly key: string;
}

export interface HolderInfo {
  readonly id: string;
  readonly version: string;
  readonly at: string;
  readonly leaseId: string;
}

export interface BadMark {
  readonly version: string;
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

/** One slot held by this node: keep it alive until released (or until the node dies). */
export class Holder {
  private timer: NodeJS.Timeout | undefined;
  private lost: ((reason: string) => void) | undefined;

  constructor(
    private readonly etcd: EtcdClient,
    readonly state: HolderState,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Sends a keep-alive every third of the TTL. `onLost` hears when etcd
   * says the lease is gone (expired while unreachable): the slot may be
   * someone else's now, so the caller must not reboot on it.
   */
  startKeepAlive(onLost: (reason: string) => void = () => {}): void {
    this.stopKeepAlive();
    this.lost = onLost;
    const every = Math.max(500, (this.ttlSeconds * 1000) / 3);
    const tick = async () => {
      try {
        const ttl = await this.etcd.leaseKeepAlive(this.state.leaseId);
        if (ttl <= 0) {
          this.stopKeepAlive();
          this.lost?.(`lease ${this.state.leaseId} expired`);
          return;
        }
      } catch {
        // etcd unreachable for one round: the lease outlives a few missed rounds.
      }
      if (this.timer) this.timer = setTimeout(() => void tick(), every);
    };
    this.timer = setTimeout(() => void tick(), every);
  }

  /** Stops keep-alives without releasing: the slot frees itself when the lease expires (a "dead" holder). */
  stopKeepAlive(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether etcd still has this node's holder key on this lease. */
  async isHeld(): Promise<boolean> {
    const { kvs } = await this.etcd.range(this.state.key);
    return kvs.some((k) => k.lease === this.state.leaseId);
  }

  /** Gives the slot back: revoking the lease deletes the holder key. */
  async release(): Promise<void> {
    this.stopKeepAlive();
    await this.etcd.leaseRevoke(this.state.leaseId);
  }
}

export class RebootSemaphore {
  private readonly holdersPrefix: string;
  private readonly badPrefix: string;

  constructor(
    private readonly etcd: EtcdClient,
    readonly opts: SemaphoreOptions,
  ) {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.id)) throw new CairnError("INVALID_ARGUMENT", `semaphore holder id ${JSON.stringify(opts.id)}: letters, digits, '.', '_' and '-' only`);
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new CairnError("INVALID_ARGUMENT", `semaphore max ${opts.max}: must be a positive integer`);
    const root = opts.prefix.replace(/\/+$/, "");
    this.holdersPrefix = `${root}/holders/`;
    this.badPrefix = `${root}/bad/`;
  }

  /** This node's holder key. */
  get holderKey(): string {
    return `${this.holdersPrefix}${this.opts.id}`;
  }

  /** Current holders (live leases only: etcd removed the expired ones). */
  async holders(): Promise<HolderInfo[]> {
    const { kvs } = await this.etcd.range(this.holdersPrefix, prefixEnd(this.holdersPrefix));
    return kvs.map((k) => ({ ...(JSON.parse(k.value) as { id: string; version: string; at: string }), leaseId: k.lease }));
  }

  /** Versions the fleet marked bad. */
  async badVersions(): Promise<Map<string, BadMark>> {
    const { kvs } = await this.etcd.range(this.badPrefix, prefixEnd(this.badPrefix));
    return new Map(kvs.map((k) => [k.key.slice(this.badPrefix.length), JSON.parse(k.value) as BadMark]));
  }

  /** Marks a release bad (a node rolled back from it): no node acquires a slot for it again. */
  async markBad(version: string, reason: string): Promise<void> {
    const mark: BadMark = { version, by: this.opts.id, reason, at: new Date().toISOString() };
    await this.etcd.put(`${this.badPrefix}${version}`, JSON.stringify(mark));
  }

  /**
   * One attempt: a slot for rebooting into `version`, or undefined when all
   * `max` are taken (or another node changed the holders meanwhile: retry).
   * Throws FAILED_PRECONDITION when the version is marked bad, and
   * ALREADY_EXISTS when this node already holds a slot (resume it instead).
   */
  async tryAcquire(version: string): Promise<Holder | undefined> {
    const key = this.holderKey;
    const badKey = `${this.badPrefix}${version}`;
    const { kvs, revision } = await this.etcd.range(this.holdersPrefix, prefixEnd(this.holdersPrefix));
    const bad = (await this.badVersions()).get(version);
    if (bad) throw new CairnError("FAILED_PRECONDITION", `release ${version} is marked bad by ${bad.by}: ${bad.reason}`);
    if (kvs.some((k) => k.key === key)) throw new CairnError("ALREADY_EXISTS", `${this.opts.id} already holds a reboot slot (${key})`);
    if (kvs.length >= this.opts.max) return undefined;
    const lease = await this.etcd.leaseGrant(this.opts.ttlSeconds);
    const value = JSON.stringify({ id: this.opts.id, version, at: new Date().toISOString() });
    const r = await this.etcd.txn(
      [
        { target: "MOD", key: this.holdersPrefix, rangeEnd: prefixEnd(this.holdersPrefix), result: "LESS", modRevision: revision + 1 },
        { target: "CREATE", key, result: "EQUAL", createRevision: 0 },
        { target: "VERSION", key: badKey, result: "EQUAL", version: 0 },
      ],
      [{ put: { key, value, lease: lease.id } }],
    );
    if (!r.succeeded) {
      await this.etcd.leaseRevoke(lease.id);
      return undefined;
    }
    return new Holder(this.etcd, { id: this.opts.id, version, leaseId: lease.id, key }, this.opts.ttlSeconds);
  }

  /**
   * Waits for a slot: retries every `pollMs` (with a little per-attempt
   * spread so racing nodes do not retry in lockstep) until one is free,
   * the version is marked bad (throws), or `signal` aborts.
   */
  async acquire(version: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<Holder> {
    const poll = opts.pollMs ?? 2_000;
    for (;;) {
      opts.signal?.throwIfAborted();
      const h = await this.tryAcquire(version);
      if (h) return h;
      await sleep(poll + Math.floor(Math.random() * poll * 0.25), undefined, { signal: opts.signal });
    }
  }

  /** A slot held before a reboot, from its persisted state (its key must still be on that lease). */
  async resume(state: HolderState): Promise<Holder | undefined> {
    const h = new Holder(this.etcd, state, this.opts.ttlSeconds);
    return (await h.isHeld()) ? h : undefined;
  }
}
