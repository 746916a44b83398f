import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import { safeName, type NodeCollection } from "./collect-node.js";

/** The bundle's index: what was collected from where, and what failed. */
export interface BundleSummary {
  readonly createdAt: string;
  readonly nodes: {
    readonly node: string;
    readonly folder: string;
    readonly reachable: boolean;
    readonly files: string[];
    readonly failures: { item: string; error: string }[];
    readonly notes: string[];
  }[];
}

export function summarize(collections: readonly NodeCollection[], createdAt = new Date()): BundleSummary {
  const used = new Set<string>();
  // Two addresses can make the same safe name ("a:1" and "a_1"): the second gets a suffix.
  const folderFor = (node: string) => {
    const base = safeName(node);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  };
  return {
    createdAt: createdAt.toISOString(),
    nodes: collections.map((c) => ({
      node: c.node,
      folder: folderFor(c.node),
      reachable: c.reachable,
      files: c.files.map((f) => f.name),
      failures: c.failures,
      notes: c.notes,
    })),
  };
}

/** summary.txt: the same as summary.json, for a person opening the archive. */
export function summaryText(s: BundleSummary): string {
  const out = [`Cairn support bundle, ${s.createdAt}`, ""];
  for (const n of s.nodes) {
    out.push(`${n.node} (folder ${n.folder}/): ${n.reachable ? `${n.files.length} files` : "UNREACHABLE"}`);
    for (const f of n.failures) out.push(`  failed ${f.item}: ${f.error}`);
    for (const note of n.notes) out.push(`  note ${note}`);
  }
  return `${out.join("\n")}\n`;
}

/**
 * Writes the bundle as one tar.gz: summary.json and summary.txt at the top,
 * then a folder per node. Written to a temporary name and renamed, so an
 * interrupted run never leaves a truncated archive under the final name.
 */
export async function writeSupportArchive(path: string, collections: readonly NodeCollection[], createdAt = new Date()): Promise<BundleSummary> {
  const summary = summarize(collections, createdAt);
  const tar = pack();
  const mtime = createdAt;
  const entry = (name: string, content: string) => tar.entry({ name, mode: 0o644, mtime }, Buffer.from(content, "utf8"));
  const tmp = `${path}.partial-${process.pid}`;
  const written = pipeline(tar, createGzip(), createWriteStream(tmp, { mode: 0o600 }));
  try {
    entry("summary.json", `${JSON.stringify(summary, null, 2)}\n`);
    entry("summary.txt", summaryText(summary));
    collections.forEach((c, i) => {
      for (const f of c.files) entry(`${summary.nodes[i]!.folder}/${f.name}`, f.content);
    });
    tar.finalize();
    await written;
    await rename(tmp, path);
  } catch (e) {
    tar.destroy();
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return summary;
}
