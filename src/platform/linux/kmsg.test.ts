import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readKernelLog, writeKernelLogLine } from "./kmsg.js";

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

describe.skipIf(!readable)("readKernelLog tail (root only)", () => {
  it("yields only the last N records of the buffer", async () => {
    const ac = new AbortController();
    const all: number[] = [];
    for await (const r of readKernelLog({ follow: false, signal: ac.signal })) all.push(r.seq);
    const tail: number[] = [];
    for await (const r of readKernelLog({ follow: false, signal: ac.signal, tail: 3 })) tail.push(r.seq);
    // The buffer may gain records between the two reads: the tail ends at or after the full read's end.
    expect(tail).toHaveLength(Math.min(3, all.length));
    expect(tail[0]).toBeGreaterThanOrEqual(all.at(-3) ?? 0);
  });

  it("with follow, sends the tail as soon as it caught up, then a line written afterwards", async () => {
    const ac = new AbortController();
    const marker = `cairn-kmsg-test-${process.pid}-${Date.now()}`;
    const seen: string[] = [];
    const t0 = Date.now();
    let wroteAt = 0;
    for await (const r of readKernelLog({ follow: true, signal: ac.signal, tail: 1 })) {
      seen.push(r.message);
      if (seen.length === 1) {
        wroteAt = Date.now();
        writeKernelLogLine(marker);
      }
      if (r.message === marker) break;
      if (Date.now() - t0 > 5000) break;
    }
    ac.abort();
    expect(seen.at(-1)).toBe(marker);
    expect(Date.now() - wroteAt).toBeLessThan(2000);
  });
});
