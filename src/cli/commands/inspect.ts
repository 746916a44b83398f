import type { Command } from "commander";
import { onNodes, type GlobalFlags } from "../context.js";
import { structured, table } from "../output.js";

/** Bytes as a short human size (binary units), e.g. "1.5 GiB". */
export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** json/yaml: the response per node as it came; table: what `rows` draws. */
function render<T extends object>(rows: (ok: { node: string; value: T }[]) => string) {
  return (ok: { node: string; value: T }[], g: GlobalFlags) => {
    if (g.format !== "table") return void process.stdout.write(`${structured(g.format, ok.map((r) => ({ node: r.node, ...r.value })))}\n`);
    process.stdout.write(`${rows(ok)}\n`);
  };
}

/** ps, memory, disks, mounts, netstat: machine state read from each node's kernel. */
export function registerInspect(program: Command): void {
  program
    .command("ps")
    .description("list processes (pid, parent, state, rss, cpu time, command line)")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.processes(),
        render((ok) =>
          table(
            ["NODE", "PID", "PPID", "STATE", "THREADS", "RSS", "CPU", "COMMAND"],
            ok.flatMap(({ node, value }) => value.processes.map((p) => [node, p.pid, p.ppid, p.state, p.threads, humanBytes(p.rssBytes), `${p.cpuSeconds.toFixed(2)}s`, p.cmdline || `[${p.name}]`])),
          ),
        ),
      );
    });
  program
    .command("memory")
    .description("show memory use (/proc/meminfo)")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.memory(),
        render((ok) =>
          table(
            ["NODE", "TOTAL", "USED", "FREE", "AVAILABLE", "CACHED", "SHMEM"],
            ok.map(({ node, value: m }) => [
              node,
              humanBytes(m.totalBytes),
              humanBytes(m.totalBytes - m.availableBytes),
              humanBytes(m.freeBytes),
              humanBytes(m.availableBytes),
              humanBytes(m.fields["Cached"] ?? 0),
              humanBytes(m.fields["Shmem"] ?? 0),
            ]),
          ),
        ),
      );
    });
  program
    .command("disks")
    .description("list disks and partitions: GPT labels, sizes, mounted file system usage")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.disks(),
        render((ok) =>
          table(
            ["NODE", "DEVICE", "TYPE", "LABEL", "SIZE", "RO", "MOUNTPOINT", "FSTYPE", "USED", "AVAIL"],
            ok.flatMap(({ node, value }) =>
              value.devices.map((d) => [
                node,
                d.type === "partition" ? `└─${d.name}` : d.name,
                d.type,
                d.partitionLabel || "-",
                humanBytes(d.sizeBytes),
                d.readOnly,
                d.mountpoints.join(",") || "-",
                d.fstype || "-",
                d.fsSizeBytes ? humanBytes(d.fsUsedBytes) : "-",
                d.fsSizeBytes ? humanBytes(d.fsAvailableBytes) : "-",
              ]),
            ),
          ),
        ),
      );
    });
  program
    .command("mounts")
    .description("list mounted file systems with read-only flags and usage")
    .action(async (_f, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.mounts(),
        render((ok) =>
          table(
            ["NODE", "TARGET", "SOURCE", "FSTYPE", "MODE", "SIZE", "USED", "AVAIL"],
            ok.flatMap(({ node, value }) =>
              value.mounts.map((m) => [node, m.target, m.source, m.fstype, m.readOnly ? "ro" : "rw", m.sizeBytes ? humanBytes(m.sizeBytes) : "-", m.sizeBytes ? humanBytes(m.usedBytes) : "-", m.sizeBytes ? humanBytes(m.availableBytes) : "-"]),
            ),
          ),
        ),
      );
    });
  program
    .command("netstat")
    .description("list TCP and UDP sockets (/proc/net)")
    .option("-l, --listening", "only listening TCP and unconnected UDP sockets")
    .action(async (flags: { listening?: boolean }, cmd: Command) => {
      await onNodes(
        cmd,
        (c) => c.netstat(flags.listening ?? false),
        render((ok) =>
          table(
            ["NODE", "PROTO", "LOCAL", "REMOTE", "STATE", "RECV-Q", "SEND-Q"],
            ok.flatMap(({ node, value }) =>
              value.sockets.map((s) => [node, s.protocol, hostPort(s.localAddress, s.localPort), hostPort(s.remoteAddress, s.remotePort), s.state, s.rxQueueBytes, s.txQueueBytes]),
            ),
          ),
        ),
      );
    });
}

const hostPort = (addr: string, port: number) => (addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`);
