import { describe, expect, it } from "vitest";
import { qemuArgs, qemuOptValue } from "./qemu-args.js";
import { resolveLaunchSpec, type LaunchDecisions } from "./resolve-spec.js";

const decisions: LaunchDecisions = {
  accel: "tcg",
  firmwareCode: "/usr/share/OVMF/OVMF_CODE_4M.fd",
  apiHostPort: 41000,
  extraHostFwds: [],
  overlay: "/w/n1/disk.qcow2",
  vars: "/w/n1/OVMF_VARS.fd",
  consoleLog: "/w/n1/console.log",
  qmpSocket: "/w/n1/qmp.sock",
  pidFile: "/w/n1/qemu.pid",
};

/** Value following `flag` for every occurrence, e.g. all `-device` values. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));
}

describe("qemuArgs", () => {
  const argv = qemuArgs(resolveLaunchSpec({ name: "n1", baseImage: "b.raw", workDir: "/w/n1" }, decisions));

  it("boots q35 with OVMF pflash: CODE read-only, the per-node VARS copy writable", () => {
    expect(values(argv, "-machine")).toEqual(["q35,accel=tcg"]);
    expect(values(argv, "-cpu")).toEqual(["max"]);
    const drives = values(argv, "-drive");
    expect(drives).toContain("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd");
    expect(drives).toContain("if=pflash,format=raw,unit=1,file=/w/n1/OVMF_VARS.fd");
    expect(drives).toContain("if=none,id=disk0,format=qcow2,file=/w/n1/disk.qcow2");
  });

  it("names the VM but keeps the process name, so `pgrep qemu` still finds it", () => {
    expect(values(argv, "-name")).toEqual(["n1"]);
  });

  it("applies defaults of 512 MiB and one vCPU", () => {
    expect(values(argv, "-m")).toEqual(["512"]);
    expect(values(argv, "-smp")).toEqual(["1"]);
  });

  it("forwards 127.0.0.1:port to guest 50000 over a virtio NIC without an option ROM", () => {
    expect(values(argv, "-netdev")).toEqual(["user,id=net0,hostfwd=tcp:127.0.0.1:41000-:50000"]);
    expect(values(argv, "-device")).toContain("virtio-net-pci,netdev=net0,romfile=");
    expect(values(argv, "-device")).toContain("virtio-blk-pci,drive=disk0,bootindex=0");
  });

  it("never passes -no-reboot (guest reboots reset in place) and has no display", () => {
    expect(argv).not.toContain("-no-reboot");
    expect(values(argv, "-display")).toEqual(["none"]);
    expect(argv).toContain("-nodefaults");
  });

  it("wires serial to the console file, QMP to the unix socket and a pidfile", () => {
    expect(values(argv, "-chardev")).toEqual([
      "file,id=console0,path=/w/n1/console.log",
      "socket,id=qmp0,path=/w/n1/qmp.sock,server=on,wait=off",
    ]);
    expect(values(argv, "-serial")).toEqual(["chardev:console0"]);
    expect(values(argv, "-mon")).toEqual(["chardev=qmp0,mode=control"]);
    expect(values(argv, "-pidfile")).toEqual(["/w/n1/qemu.pid"]);
  });

  it("omits fw_cfg without a config and adds it under opt/dev.cairn/config with one", () => {
    expect(argv).not.toContain("-fw_cfg");
    const withCfg = qemuArgs(resolveLaunchSpec({ name: "n1", baseImage: "b", workDir: "/w", configFile: "/c/node.yaml" }, decisions));
    expect(values(withCfg, "-fw_cfg")).toEqual(["name=opt/dev.cairn/config,file=/c/node.yaml"]);
  });

  it("adds extra host forwards and honours memory, cpus and accel", () => {
    const a = qemuArgs(
      resolveLaunchSpec(
        { name: "n2", baseImage: "b", workDir: "/w", memoryMiB: 256, cpus: 2 },
        { ...decisions, accel: "kvm", extraHostFwds: [{ hostPort: 8080, guestPort: 80 }, { protocol: "udp", hostPort: 5353, guestPort: 53 }] },
      ),
    );
    expect(values(a, "-netdev")).toEqual([
      "user,id=net0,hostfwd=tcp:127.0.0.1:41000-:50000,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53",
    ]);
    expect(values(a, "-m")).toEqual(["256"]);
    expect(values(a, "-smp")).toEqual(["2"]);
    expect(values(a, "-machine")).toEqual(["q35,accel=kvm"]);
  });

  it("escapes commas in paths the QEMU way", () => {
    expect(qemuOptValue("/a,b/c")).toBe("/a,,b/c");
    const a = qemuArgs(resolveLaunchSpec({ name: "n", baseImage: "b", workDir: "/w" }, { ...decisions, overlay: "/x,y/disk.qcow2" }));
    expect(values(a, "-drive")).toContain("if=none,id=disk0,format=qcow2,file=/x,,y/disk.qcow2");
  });
});

describe("resolveLaunchSpec", () => {
  it.each([
    [{ memoryMiB: 0 }, /memoryMiB/],
    [{ cpus: 1.5 }, /cpus/],
    [{ name: "bad name" }, /node name/],
  ])("rejects %o", (patch, re) => {
    expect(() => resolveLaunchSpec({ name: "n", baseImage: "b", workDir: "/w", ...patch }, decisions)).toThrow(re);
  });

  it("rejects a port out of range and a QMP socket path too long for sun_path", () => {
    expect(() => resolveLaunchSpec({ name: "n", baseImage: "b", workDir: "/w" }, { ...decisions, apiHostPort: 70000 })).toThrow(/apiHostPort/);
    const long = `/${"d".repeat(120)}/qmp.sock`;
    expect(() => resolveLaunchSpec({ name: "n", baseImage: "b", workDir: "/w" }, { ...decisions, qmpSocket: long })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
  it("adds virtio NICs on host taps after the user-network NIC, and refuses bad tap names", () => {
    const a = qemuArgs(resolveLaunchSpec({ name: "n1", baseImage: "b.raw", workDir: "/w/n1", tapNics: [{ tap: "cairn-t0", mac: "52:54:00:00:77:01" }] }, decisions));
    expect(values(a, "-netdev")[1]).toBe("tap,id=tap0,ifname=cairn-t0,script=no,downscript=no");
    expect(values(a, "-device")).toContain("virtio-net-pci,netdev=tap0,romfile=,mac=52:54:00:00:77:01");
    expect(() => resolveLaunchSpec({ name: "n1", baseImage: "b.raw", workDir: "/w/n1", tapNics: [{ tap: "a,b" }] }, decisions)).toThrow(/tapNics\[0\].tap/);
  });
});
