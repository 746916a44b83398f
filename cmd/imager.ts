/**
 * imager: builds a Cairn disk image and upgrade bundle.
 *   npm run image -- --version 0.2.0 [--entry cmd/machined.ts] [--out dist]
 * Thin entry point: the work is in src/image (see docs/image.md).
 */
import { parseImagerArgs } from "../src/image/args.js";
import { buildImage } from "../src/image/build-image.js";
import { mib } from "../src/image/timings.js";

async function main(): Promise<void> {
  const opts = parseImagerArgs(process.argv.slice(2));
  const r = await buildImage(opts);
  const lines = [
    `cairn ${r.build.version} (${r.build.arch}, build ${r.build.buildId})`,
    `  raw disk    ${r.raw}  (${mib(r.sizes["rawLength"]!)} long, ${mib(r.sizes["rawAllocated"]!)} allocated)`,
    `  bundle      ${r.bundle}  (${mib(r.sizes["bundle"]!)})`,
    `  file list   ${r.filesList}`,
    `  slot payload ${mib(r.sizes["slotPayload"]!)} = kernel ${mib(r.sizes["kernel"]!)} + initramfs ${mib(r.sizes["initramfs"]!)} + rootfs ${mib(r.sizes["rootfs"]!)}`,
    "timings:",
    r.timings,
  ];
  console.log(lines.join("\n"));
}

main().catch((err: unknown) => {
  console.error(`imager: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
