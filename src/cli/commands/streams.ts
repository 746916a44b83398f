import { status } from "@grpc/grpc-js";
import type { Command } from "commander";
import type { MachineClient } from "../../machinery/client/index.js";
import { onNodes } from "../context.js";
import { parseCount, parseDuration } from "../parse-flags.js";

/** Stops following on Ctrl-C: the streams end cleanly instead of the process dying mid-write. */
function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  return ac.signal;
}

/** A workload of that name runs on the node; a node without containers (or an older one) has none. */
async function isWorkload(c: MachineClient, name: string): Promise<boolean> {
  try {
    return (await c.containerList()).containers.some((w) => w.name === name);
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === status.FAILED_PRECONDITION || code === status.UNIMPLEMENTED || code === status.UNAVAILABLE) return false;
    throw e;
  }
}

const prefix = (many: boolean, node: string) => (many ? `${node}: ` : "");

/** logs, dmesg, events: streamed line by line, prefixed by node when there are several. */
export function registerStreams(program: Command): void {
  program
    .command("logs <name>")
    .description("show a service's log, or a workload's output (a name in `nodectl containers`)")
    .option("-f, --follow", "keep streaming new lines")
    .option("--tail <n>", "only the last n lines first", parseCount)
    .option("--since <duration>", "only lines of the last duration (30s, 5m, 1h), by the node's clock", parseDuration)
    .action(async (service: string, flags: { follow?: boolean; tail?: number; since?: number }, cmd: Command) => {
      const signal = interruptSignal();
      const many = (cmd.optsWithGlobals<{ nodes?: string[] }>().nodes?.length ?? 0) > 1;
      await onNodes(
        cmd,
        async (c, node) => {
          if (await isWorkload(c, service)) {
            for await (const l of c.containerLogs({ name: service, follow: flags.follow ?? false, tailLines: flags.tail ?? 0 }, signal)) process.stdout.write(`${prefix(many, node)}${l.line}\n`);
            return;
          }
          for await (const l of c.logs({ service, follow: flags.follow ?? false, tailLines: flags.tail ?? 0, sinceSeconds: flags.since ?? 0 }, signal)) process.stdout.write(`${prefix(many, node)}${l.message}\n`);
        },
        () => undefined,
      );
    });
  program
    .command("dmesg")
    .description("show the kernel log")
    .option("-f, --follow", "keep streaming new messages")
    .option("--tail <n>", "only the last n messages", parseCount)
    .action(async (flags: { follow?: boolean; tail?: number }, cmd: Command) => {
      const signal = interruptSignal();
      const many = (cmd.optsWithGlobals<{ nodes?: string[] }>().nodes?.length ?? 0) > 1;
      await onNodes(
        cmd,
        async (c, node) => {
          for await (const k of c.dmesg({ follow: flags.follow ?? false, tailLines: flags.tail ?? 0 }, signal)) {
            process.stdout.write(`${prefix(many, node)}[${(k.monotonicUs / 1e6).toFixed(6).padStart(12)}] ${k.message}\n`);
          }
        },
        () => undefined,
      );
    });
  program
    .command("events")
    .description("show node events (config applied, boots, power actions)")
    .option("-f, --follow", "keep streaming new events")
    .option("--tail <n>", "the last n past events first", parseCount, 100)
    .option("--since <id>", "resume after this event id")
    .action(async (flags: { follow?: boolean; tail: number; since?: string }, cmd: Command) => {
      const signal = interruptSignal();
      const fmt = cmd.optsWithGlobals<{ format: string }>().format;
      await onNodes(
        cmd,
        async (c, node) => {
          for await (const e of c.events({ sinceId: flags.since ?? "", tailEvents: flags.tail, follow: flags.follow ?? false }, signal)) {
            if (fmt === "json") process.stdout.write(`${JSON.stringify({ node, ...e })}\n`);
            else process.stdout.write(`${node}  ${e.id}  ${new Date(e.timeUnixMs).toISOString()}  ${e.type.padEnd(18)} ${e.message}\n`);
          }
        },
        () => undefined,
      );
    });
}
