import { join } from "node:path";
import type { Logger } from "pino";
import { readTextIfExists, writeFileAtomic } from "../../machinery/fs/index.js";
import type { SlotName } from "../../platform/index.js";
import type { ConfigStore } from "../config-store.js";
import type { EventBus } from "../event-bus.js";

/**
 * Each slot's last-known-good machine config, on STATE beside the active
 * one: `config/slots/<slot>.yaml`, saved when a boot of the slot is blessed
 * and when the node leaves a good slot (an install into the other slot, a
 * rollback). `config/slots/last` names the slot that booted last, so the
 * next boot knows it changed slots. Every write is atomic.
 */
export class SlotConfigs {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "config", "slots");
  }

  path(slot: SlotName): string {
    return join(this.dir, `${slot.toLowerCase()}.yaml`);
  }

  read(slot: SlotName): Promise<string | undefined> {
    return readTextIfExists(this.path(slot));
  }

  async save(slot: SlotName, text: string): Promise<void> {
    await writeFileAtomic(this.path(slot), text, { mode: 0o600 });
  }

  async lastBooted(): Promise<SlotName | undefined> {
    const text = (await readTextIfExists(join(this.dir, "last")))?.trim();
    return text === "A" || text === "B" ? text : undefined;
  }

  async setLastBooted(slot: SlotName): Promise<void> {
    if ((await this.lastBooted()) !== slot) await writeFileAtomic(join(this.dir, "last"), `${slot}\n`, { mode: 0o600 });
  }
}

/**
 * At boot, before the config is loaded: when the node changed slots and the
 * booted slot is not on trial (a manual rollback or systemd-boot's
 * fallback, never a forward upgrade), the slot's last-known-good config
 * becomes active again and a staged one (written by the other version) is
 * dropped, so an older version never meets a config only a newer one can
 * parse. A forward upgrade keeps the active config (newer versions read
 * older configs). Returns true when a config was restored.
 */
export async function restoreSlotConfig(o: {
  slots: SlotConfigs;
  config: ConfigStore;
  booted: SlotName;
  trial: boolean;
  events: EventBus;
  log: Logger;
}): Promise<boolean> {
  const last = await o.slots.lastBooted();
  let restored = false;
  if (last !== undefined && last !== o.booted && !o.trial) {
    const saved = await o.slots.read(o.booted);
    if (saved === undefined) {
      o.log.warn({ slot: o.booted, from: last }, "back on a slot with no saved config: keeping the active one");
    } else {
      if ((await o.config.readActive()) !== saved) {
        await o.config.writeActive(saved);
        restored = true;
      }
      await o.config.clearStaged();
      o.log.info({ slot: o.booted, from: last, changed: restored }, "slot's last-known-good config restored");
      o.events.publish("config.restored", `slot ${o.booted}'s last-known-good config is active again (came from slot ${last})`, { slot: o.booted, fromSlot: last, changed: String(restored) });
    }
  }
  await o.slots.setLastBooted(o.booted);
  return restored;
}
