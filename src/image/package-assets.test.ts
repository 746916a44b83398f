import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleEntry, nodeModulesFiles } from "./bundle-entry.js";

describe("package assets", () => {
  it("ships reflection.proto and koffi under node_modules", () => {
    const rel = nodeModulesFiles().map((f) => f.imageRel);
    expect(rel).toContain("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
    expect(rel).toContain("@grpc/grpc-js/proto/channelz.proto");
    expect(rel).toContain("koffi/build/koffi/linux_x64/koffi.node");
  });

  it("points the bundled @grpc/reflection at its proto directory in the image", async () => {
    // Inside the repo (git-ignored .cache/) so that esbuild resolves packages from node_modules.
    mkdirSync(".cache", { recursive: true });
    const dir = mkdtempSync(join(process.cwd(), ".cache", "test-assets-"));
    try {
      const entry = join(dir, "entry.ts");
      writeFileSync(entry, 'import { ReflectionService } from "@grpc/reflection";\nconsole.log(ReflectionService);\n');
      const out = join(dir, "out.mjs");
      await bundleEntry(entry, out);
      const js = readFileSync(out, "utf8");
      expect(js).toContain('"/usr/lib/cairn/node_modules/@grpc/reflection/build/src/implementations"');
      expect(js).toMatch(/^import \{ createRequire as __cairnRequire \}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
