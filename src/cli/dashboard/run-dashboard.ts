import { setTimeout as sleep } from "node:timers/promises";
import type { MachineClient } from "../../machinery/client/index.js";
import type { Dial } from "../context.js";
import { pollNode, type NodeView } from "./node-view.js";
import { renderDashboard, type Frame } from "./render.js";
import { isQuitKey, plainFrame, TerminalSession } from "./terminal.js";

export interface DashboardOptions {
  readonly targets: readonly { node: string; dial: Dial }[];
  readonly intervalSeconds: number;
}

/**
 * Polls every node once, in parallel. A node's client (and its TLS session)
 * is kept while polls succeed: a handshake per refresh would cost a slow node
 * more than the poll. After a failure the client is replaced, so a node that
 * comes back is seen at once instead of after grpc's reconnect backoff.
 */
async function refresh(targets: DashboardOptions["targets"], views: NodeView[], clients: (MachineClient | undefined)[], timeoutMs: number): Promise<void> {
  await Promise.all(
    targets.map(async (t, i) => {
      const client = (clients[i] ??= t.dial({ timeoutMs }));
      views[i] = await pollNode(client, views[i]!);
      if (views[i]!.error !== undefined) {
        client.close();
        clients[i] = undefined;
      }
    }),
  );
}

/** Per-call deadline: a TLS handshake under TCG on a busy host takes seconds. */
const callTimeoutMs = (intervalSeconds: number) => Math.max(15_000, intervalSeconds * 2000);

const emptyViews = (targets: DashboardOptions["targets"]): NodeView[] => targets.map((t) => ({ node: t.node, events: [], logs: [] }));

/** One frame as plain text: for scripts, files and tests (no terminal needed). */
export async function dashboardOnce(opts: DashboardOptions, size: { width: number; height: number }): Promise<{ text: string; views: NodeView[] }> {
  const views = emptyViews(opts.targets);
  const clients: (MachineClient | undefined)[] = [];
  await refresh(opts.targets, views, clients, callTimeoutMs(opts.intervalSeconds));
  for (const c of clients) c?.close();
  const frame: Frame = { ...size, now: Date.now(), intervalSeconds: opts.intervalSeconds };
  return { text: plainFrame(renderDashboard(views, frame)), views };
}

/**
 * The live dashboard: redraws after every refresh and on every resize,
 * until q or Ctrl-C (or SIGTERM/SIGHUP). The terminal is restored on every
 * way out. Unreachable nodes stay on screen with their last data, marked.
 */
export async function runDashboard(opts: DashboardOptions, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<void> {
  const term = new TerminalSession(input, output);
  const views = emptyViews(opts.targets);
  const clients: (MachineClient | undefined)[] = [];
  const quit = new AbortController();
  const draw = () => term.draw(renderDashboard(views, { ...term.size, now: Date.now(), intervalSeconds: opts.intervalSeconds }));
  const onSignal = () => quit.abort();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onSignal);
  term.enter((key) => isQuitKey(key) && quit.abort(), draw);
  // One listener for the dashboard's life: a new one per refresh piled up on the signal.
  const quitting = abortPromise(quit.signal);
  try {
    draw();
    while (!quit.signal.aborted) {
      // Per-call deadlines bound a refresh; q never waits for one.
      await Promise.race([refresh(opts.targets, views, clients, callTimeoutMs(opts.intervalSeconds)), quitting]);
      if (quit.signal.aborted) break;
      draw();
      await sleep(opts.intervalSeconds * 1000, undefined, { signal: quit.signal }).catch(() => undefined);
    }
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    for (const c of clients) c?.close();
    term.restore();
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
}
