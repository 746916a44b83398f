import { describe, expect, it } from "vitest";
import { containerdConfigToml } from "./containerd-config.js";
import { parseContainerdLine } from "./containerd-log.js";

describe("containerd config.toml", () => {
  const toml = containerdConfigToml({ root: "/var/lib/containerd", state: "/run/containerd", socket: "/run/containerd/containerd.sock" });

  it("puts data on /var, state and socket on /run, and disables CRI", () => {
    expect(toml).toContain('root = "/var/lib/containerd"');
    expect(toml).toContain('state = "/run/containerd"');
    expect(toml).toMatch(/\[grpc\]\n {2}address = "\/run\/containerd\/containerd.sock"/);
    expect(toml).toContain('disabled_plugins = ["io.containerd.grpc.v1.cri"]');
    expect(toml).toContain('path = "/var/lib/containerd/opt"');
    expect(toml).toContain('format = "json"');
  });

  it("refuses a path it cannot quote", () => {
    expect(() => containerdConfigToml({ root: '/var/"x', state: "/run", socket: "/run/s" })).toThrow(/unsupported character/);
  });
});

describe("containerd log lines", () => {
  it("takes level and time from a JSON record and keeps the raw line", () => {
    const raw = '{"level":"warning","msg":"failed to load plugin","time":"2026-12-05T07:00:00.000000000Z"}';
    expect(parseContainerdLine(raw)).toEqual({ level: "warning", timeUnixMs: Date.parse("2026-12-05T07:00:00Z"), message: raw });
  });

  it("keeps plain text with no level", () => {
    expect(parseContainerdLine("panic: oops", 5)).toEqual({ level: "", timeUnixMs: 5, message: "panic: oops" });
  });
});
