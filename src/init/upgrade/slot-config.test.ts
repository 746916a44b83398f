import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigStore } from "../config-store.js";
import { EventBus } from "../event-bus.js";
import { restoreSlotConfig, SlotConfigs } from "./slot-config.js";

let dir: string;
let slots: SlotConfigs;
let config: ConfigStore;
let events: EventBus;
const boot = (booted: "A" | "B", trial: boolean) => restoreSlotConfig({ slots, config, booted, trial, events, log: pino({ level: "silent" }) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-slotcfg-"));
  slots = new SlotConfigs(dir);
  config = new ConfigStore(dir);
  events = new EventBus("b");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("restoreSlotConfig", () => {
  it("a rollback or fallback to a good slot brings back that slot's config and drops the staged one", async () => {
    await slots.save("A", "v1 config\n");
    await slots.setLastBooted("B");
    await config.writeActive("v2 config\n");
    await config.writeStaged("v2 staged\n");
    expect(await boot("A", false)).toBe(true);
    expect(await config.readActive()).toBe("v1 config\n");
    expect(await config.readStaged()).toBeUndefined();
    expect(await slots.lastBooted()).toBe("A");
    expect(events.replay({ tail: 10 }).map((e) => e.type)).toEqual(["config.restored"]);
    // The next boot of the same slot changes nothing.
    await config.writeActive("v1 edited\n");
    expect(await boot("A", false)).toBe(false);
    expect(await config.readActive()).toBe("v1 edited\n");
  });

  it("a forward upgrade (trial boot of the other slot) keeps the active config", async () => {
    await slots.save("B", "ancient config\n");
    await slots.setLastBooted("A");
    await config.writeActive("current\n");
    expect(await boot("B", true)).toBe(false);
    expect(await config.readActive()).toBe("current\n");
    expect(await slots.lastBooted()).toBe("B");
  });

  it("keeps the active config when the slot has none saved, and on a node that never recorded a slot", async () => {
    await config.writeActive("current\n");
    expect(await boot("A", false)).toBe(false);
    await slots.setLastBooted("B");
    expect(await boot("A", false)).toBe(false);
    expect(await config.readActive()).toBe("current\n");
  });
});
