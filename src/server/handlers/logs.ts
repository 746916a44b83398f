import type { MachineServiceServer } from "../../api/index.js";
import { CairnError } from "../../errors/index.js";
import { replayAndFollow } from "../follow.js";
import { serverStream, type HandlerEnv } from "../handler-kit.js";
import type { NodeApi } from "../node-api.js";

/** Logs, Dmesg and Events: kept records first, then live ones when following. */
export function logHandlers(env: HandlerEnv, node: NodeApi): Pick<MachineServiceServer, "logs" | "dmesg" | "events"> {
  return {
    logs: serverStream(env, "logs", async (req, ctx, send) => {
      const known = node.logs.services();
      if (!known.includes(req.service)) {
        throw new CairnError("NOT_FOUND", `no log for service "${req.service}"`, { hint: `known services: ${known.join(", ")}` });
      }
      await replayAndFollow({
        replay: () => {
          const kept = node.logs.tail(req.service, 0);
          const since = req.sinceSeconds > 0 ? Date.now() - req.sinceSeconds * 1000 : -Infinity;
          const recent = kept.filter((l) => l.timeUnixMs >= since);
          return req.tailLines > 0 ? recent.slice(-req.tailLines) : recent;
        },
        subscribe: (fn) => node.logs.subscribe((l) => l.service === req.service && fn(l)),
        follow: req.follow,
        signal: ctx.signal,
        send,
      });
    }),
    dmesg: serverStream(env, "dmesg", async (req, ctx, send) => {
      const tail = req.tailLines > 0 ? req.tailLines : 0;
      for await (const r of node.platform.kernelLog({ follow: req.follow, signal: ctx.signal, tail })) {
        await send({ seq: r.seq, facility: r.facility, priority: r.priority, monotonicUs: r.monotonicUs, message: r.message });
      }
    }),
    events: serverStream(env, "events", async (req, ctx, send) => {
      await replayAndFollow({
        replay: () => node.events.replay({ sinceId: req.sinceId || undefined, tail: req.tailEvents }),
        subscribe: (fn) => node.events.subscribe(fn),
        follow: req.follow,
        signal: ctx.signal,
        send: (e) => send({ id: e.id, timeUnixMs: e.timeUnixMs, type: e.type, message: e.message, fields: { ...e.fields } }),
      });
    }),
  };
}
