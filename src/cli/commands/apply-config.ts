import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import { ApplyMode, type ApplyConfigurationResponse } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { applyConfigPatches, readPatchArg } from "../../machinery/config/index.js";
import { parse } from "yaml";
import { onNodes } from "../context.js";
import { structured } from "../output.js";
import { applyModeName, collect, parseApplyMode, parseDuration } from "../parse-flags.js";

interface ApplyFlags {
  file?: string;
  patch?: string[];
  insecure?: boolean;
  certFingerprint?: string;
  mode: ApplyMode;
  timeout?: number;
  dryRun?: boolean;
}

function renderApply(ok: { node: string; value: ApplyConfigurationResponse }[], format: string): void {
  if (format !== "table") {
    process.stdout.write(`${structured(format as "json" | "yaml", ok.map((r) => ({ node: r.node, ...r.value, mode: applyModeName(r.value.mode) })))}\n`);
    return;
  }
  for (const { node, value } of ok) {
    process.stdout.write(`${node}: ${value.message} (mode ${applyModeName(value.mode)})\n`);
    if (value.dryRun && value.diff) process.stdout.write(`${value.diff}\n`);
    for (const c of value.changes) process.stdout.write(`  ${c.op.padEnd(7)} ${c.path}${c.needsReboot ? "  (needs reboot)" : ""}\n`);
  }
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new CairnError("INVALID_ARGUMENT", `--file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** Patches are applied on the client so the node receives (and validates) one whole document. */
function patched(text: string, source: string, patches: string[]): string {
  if (patches.length === 0) return text;
  const named = patches.map((p) => readPatchArg(p));
  return stringify(applyConfigPatches(parse(text), named, source));
}

export function registerApplyConfig(program: Command): void {
  program
    .command("apply-config")
    .description("apply a machine config to nodes (maintenance mode: with --insecure)")
    .requiredOption("-f, --file <path>", "machine config YAML")
    .option("-p, --patch <patch>", "strategic merge or RFC 6902 patch, inline or @file (repeatable)", collect)
    .option("--insecure", "talk TLS without a client certificate to a node in maintenance mode")
    .option("--cert-fingerprint <sha256>", "with --insecure: the node certificate fingerprint printed on its console")
    .option("--mode <mode>", "auto, no-reboot, reboot, staged or try", parseApplyMode, ApplyMode.APPLY_MODE_AUTO)
    .option("--timeout <duration>", "with --mode try: revert after this long unless confirmed (e.g. 2m)", parseDuration)
    .option("--dry-run", "validate and show the diff; change nothing")
    .action(async (flags: ApplyFlags, cmd: Command) => {
      const text = patched(await readConfigFile(flags.file as string), flags.file as string, flags.patch ?? []);
      await onNodes(
        cmd,
        (c) => c.applyConfiguration({ data: Buffer.from(text), mode: flags.mode, dryRun: flags.dryRun ?? false, tryTimeoutSeconds: flags.timeout ?? 0 }),
        (ok, g) => renderApply(ok, g.format),
        { insecure: flags.insecure ?? false, ...(flags.certFingerprint ? { certFingerprint: flags.certFingerprint } : {}) },
      );
    });

  program
    .command("patch")
    .description("patch the nodes' active config and apply it")
    .requiredOption("-p, --patch <patch>", "strategic merge or RFC 6902 patch, inline or @file (repeatable)", collect)
    .option("--mode <mode>", "auto, no-reboot, reboot, staged or try", parseApplyMode, ApplyMode.APPLY_MODE_AUTO)
    .option("--timeout <duration>", "with --mode try: revert after this long unless confirmed", parseDuration)
    .option("--dry-run", "validate and show the diff; change nothing")
    .action(async (flags: ApplyFlags, cmd: Command) => {
      const named = (flags.patch ?? []).map((p) => readPatchArg(p));
      await onNodes(
        cmd,
        async (c, node) => {
          // The node returns secrets redacted; it keeps its current secret
          // wherever the document still holds the redaction placeholder.
          const current = parse(Buffer.from((await c.getConfiguration(false)).data).toString("utf8"));
          const text = stringify(applyConfigPatches(current, named, `config of ${node}`));
          return c.applyConfiguration({ data: Buffer.from(text), mode: flags.mode, dryRun: flags.dryRun ?? false, tryTimeoutSeconds: flags.timeout ?? 0 });
        },
        (ok, g) => renderApply(ok, g.format),
      );
    });
}
