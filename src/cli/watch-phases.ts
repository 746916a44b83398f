import type { Dial } from "./context.js";

/**
 * Follows the node's Events stream and hands each `upgrade.*` event to
 * `print` as it comes (received, verified, written, rebooting), so a long
 * upgrade shows where it is. Best effort: the stream ends when the node
 * reboots, and any error just ends the watch. Stop it with `signal`.
 */
export function watchPhases(dial: Dial, print: (line: string) => void, signal: AbortSignal): Promise<void> {
  const c = dial({ timeoutMs: 2_000 });
  return (async () => {
    try {
      for await (const e of c.events({ follow: true, tailEvents: 0 }, signal)) {
        if (e.type.startsWith("upgrade.")) print(`${e.type}: ${e.message}`);
      }
    } catch {
      // The node went away (rebooting) or never streamed: phases are a nicety.
    } finally {
      c.close();
    }
  })();
}
