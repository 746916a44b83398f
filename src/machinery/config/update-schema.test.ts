import { describe, expect, it } from "vitest";
import { isCairnError } from "../../errors/index.js";
import { parseMachineConfig, validateMachineConfig } from "./parse.js";
import { dummyCertPem, sampleConfigYaml } from "./testdata/sample.js";

const base = () => parseMachineConfig(sampleConfigYaml) as unknown as { machine: Record<string, unknown> };

/** Validates the sample with machine.update replaced; returns "path: message" lines, or [] when valid. */
function problems(update: unknown): string[] {
  const doc = base();
  doc.machine["update"] = update;
  try {
    validateMachineConfig(doc);
    return [];
  } catch (e) {
    if (!isCairnError(e)) throw e;
    return e.details.map((d) => `${d.path}: ${d.message}`);
  }
}

describe("machine.update", () => {
  it("fills defaults: no repository means no unattended updates, immediate reboots, one at a time", () => {
    const doc = base();
    delete doc.machine["update"];
    expect(validateMachineConfig(doc).machine.update).toEqual({
      publicKeys: [],
      checkIntervalSeconds: 3600,
      windows: [],
      jitterSeconds: 0,
      reboot: { strategy: "immediate", maxConcurrent: 1, lockTTLSeconds: 900 },
    });
    expect(problems({ fleetLockless: 1 })).toEqual(["machine.update.fleetLockless: unknown field"]);
  });

  it("accepts the sample: a channel, a weekend window, coordinated reboots through etcd", () => {
    const u = parseMachineConfig(sampleConfigYaml).machine.update;
    expect(u).toMatchObject({ repository: "http://10.0.2.2:8080/repo", channel: "stable", windows: [{ days: ["Sat", "Sun"], start: "23:30", lengthMinutes: 120 }], reboot: { strategy: "coordinated" } });
    expect(u.coordination?.etcd?.prefix).toBe("/cairn/fleet");
    expect(problems({ repository: "https://r/", channel: "beta", reboot: { strategy: "coordinated" }, coordination: { fleetLock: { url: "http://lock:8080" } } })).toEqual([]);
  });

  it("names every bad field at its path", () => {
    expect(
      problems({
        repository: "ftp://x",
        channel: "Stable",
        checkIntervalSeconds: 1,
        windows: [{ days: ["Mon", "Funday", "Mon"], start: "24:00", lengthMinutes: 0, extra: true }],
        reboot: { strategy: "sometimes", maxConcurrent: 0 },
        coordination: { etcd: { endpoints: [], cert: dummyCertPem, prefix: "fleet" }, fleetLock: { url: "x", group: "a b" } },
      }),
    ).toEqual([
      "machine.update.channel: must be a lowercase name like stable",
      "machine.update.repository: must be an http:// or https:// URL",
      "machine.update.checkIntervalSeconds: Too small: expected number to be >=5",
      "machine.update.windows[0].days[1]: must be one of Sun, Mon, Tue, Wed, Thu, Fri, Sat",
      "machine.update.windows[0].start: must be HH:MM (24 h, UTC), e.g. 23:30",
      "machine.update.windows[0].lengthMinutes: Too small: expected number to be >=1",
      "machine.update.windows[0].extra: unknown field",
      "machine.update.reboot.strategy: must be one of immediate, window, coordinated, off",
      "machine.update.reboot.maxConcurrent: Too small: expected number to be >=1",
      "machine.update.coordination.etcd.endpoints: must list at least one endpoint",
      "machine.update.coordination.etcd.prefix: must be an absolute key path like /cairn/fleet",
      "machine.update.coordination.etcd.key: cert and key go together",
      "machine.update.coordination.fleetLock.url: must be an http:// or https:// URL",
      "machine.update.coordination.fleetLock.group: must match ^[a-zA-Z0-9.-]+$",
      "machine.update.coordination: set one of etcd or fleetLock, not both",
    ]);
  });

  it("checks fields against each other", () => {
    expect(problems({ repository: "http://r" })).toEqual(["machine.update.channel: required when repository is set"]);
    expect(problems({ reboot: { strategy: "window" } })).toEqual(["machine.update.reboot.strategy: window needs at least one entry in windows"]);
    expect(problems({ reboot: { strategy: "coordinated" } })).toEqual(["machine.update.reboot.strategy: coordinated needs coordination.etcd or coordination.fleetLock"]);
    expect(problems({ coordination: { etcd: { endpoints: ["http://e:2379"], cert: dummyCertPem } } })).toEqual(["machine.update.coordination.etcd.key: cert and key go together"]);
    expect(problems({ coordination: { etcd: { endpoints: ["http://e:2379"] }, fleetLock: { url: "http://l" } } })).toEqual(["machine.update.coordination: set one of etcd or fleetLock, not both"]);
    expect(problems({ windows: [{ days: ["Sat", "Sat"], start: "23:00", lengthMinutes: 60 }] })).toEqual(["machine.update.windows[0].days: lists a day twice"]);
  });
});
