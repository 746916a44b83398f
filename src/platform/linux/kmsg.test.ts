import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readKernelLog } from "./kmsg.js";

const readable = process.getuid?.() === 0 && existsSync("/dev/kmsg");

// Reading /dev/kmsg needs root (or dmesg_restrict=0) and a kernel log device.
describe.skipIf(!readable)("readKernelLog on the host (root only)", () => {
  it("drains the ring buffer without follow and returns", async () => {
    const ac = new AbortController();
    const seqs: number[] = [];
    for await (const r of readKernelLog({ follow: false, signal: ac.signal })) seqs.push(r.seq);
    expect(seqs.length).toBeGreaterThan(0);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it("follow mode ends when the signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 600);
    const t0 = Date.now();
    for await (const _ of readKernelLog({ follow: true, signal: ac.signal })) void _;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });
});
