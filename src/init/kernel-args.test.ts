import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bootEntry, kernelCmdline } from "../machinery/boot/index.js";
import { DirBootStore } from "../platform/dir-boot-store.js";
import { entryOptions, readSlotEntry, withOptions, writeKernelArgs } from "./kernel-args.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function store(): { efi: string; s: DirBootStore } {
  const efi = mkdtempSync(join(tmpdir(), "cairn-kargs-"));
  dirs.push(efi);
  return { efi, s: new DirBootStore({ efiDir: async () => efi, rootTarget: async () => join(efi, "root"), releaseKeysDir: join(efi, "keys") }) };
}

describe("kernel args in the boot entry", () => {
  it("replaces only the options line", () => {
    const text = bootEntry("A", "0.1.0");
    const out = withOptions(text, "x y");
    expect(out.split("\n").filter((l) => l.startsWith("options"))).toEqual(["options x y"]);
    expect(out.replace("options x y", `options ${kernelCmdline("A")}`)).toBe(text);
    expect(withOptions("title t\n", "a")).toBe("title t\noptions a\n");
  });

  it("writes the args into the running slot's entry (counted name kept), leaves the other slot alone, and is idempotent", async () => {
    const { efi, s } = store();
    await s.writeEntry("cairn-a.conf", bootEntry("A", "0.1.0"));
    await s.writeEntry("cairn-b+2-1.conf", bootEntry("B", "0.2.0", "cairn-0"));
    expect(await writeKernelArgs(s, "B", ["mitigations=off", "cairn.e2e=1"])).toBe(true);
    expect(await writeKernelArgs(s, "B", ["mitigations=off", "cairn.e2e=1"])).toBe(false);
    expect(readFileSync(join(efi, "loader/entries/cairn-b+2-1.conf"), "utf8")).toContain(`options ${kernelCmdline("B")} mitigations=off cairn.e2e=1\n`);
    expect(readFileSync(join(efi, "loader/entries/cairn-a.conf"), "utf8")).toBe(bootEntry("A", "0.1.0"));
    expect((await readSlotEntry(s, "B"))?.options).toBe(entryOptions("B", ["mitigations=off", "cairn.e2e=1"]));
    // Dropping the args restores the build's command line exactly.
    expect(await writeKernelArgs(s, "B", [])).toBe(true);
    expect(readFileSync(join(efi, "loader/entries/cairn-b+2-1.conf"), "utf8")).toBe(bootEntry("B", "0.2.0", "cairn-0"));
  });

  it("names the field when the slot has no entry", async () => {
    const { s } = store();
    await expect(writeKernelArgs(s, "A", ["x=1"])).rejects.toMatchObject({ code: "FAILED_PRECONDITION", details: [{ path: "machine.kernel.args" }] });
  });
});
