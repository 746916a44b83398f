import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function tmux(socket: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("tmux", ["-L", socket, ...args], { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`tmux ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/**
 * A real terminal for testing full-screen CLI output: a detached tmux
 * session of a fixed size, on its own server socket (no other tmux is
 * touched). The command's exit status is printed into the pane as
 * "[exited N]" so a test can see how it ended on the normal screen.
 */
export class TmuxSession {
  private constructor(readonly socket: string) {}

  static async start(argv: readonly string[], opts: { width: number; height: number; env?: Record<string, string>; cwd?: string }): Promise<TmuxSession> {
    const socket = `cairn-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const shell = `${argv.map(quote).join(" ")}; echo "[exited $?]"; sleep 600`;
    await tmux(socket, ["new-session", "-d", "-s", "t", "-x", String(opts.width), "-y", String(opts.height), ...(opts.cwd ? ["-c", opts.cwd] : []), ...env, shell]);
    return new TmuxSession(socket);
  }

  /** The visible pane as text, one line per row. */
  capture(): Promise<string> {
    return tmux(this.socket, ["capture-pane", "-p", "-t", "t"]);
  }

  /** A tmux format for the pane, e.g. "#{alternate_on}" (1 while a program uses the alternate screen). */
  async display(format: string): Promise<string> {
    return (await tmux(this.socket, ["display-message", "-p", "-t", "t", format])).trim();
  }

  sendKeys(...keys: string[]): Promise<string> {
    return tmux(this.socket, ["send-keys", "-t", "t", ...keys]);
  }

  resize(width: number, height: number): Promise<string> {
    return tmux(this.socket, ["resize-window", "-t", "t", "-x", String(width), "-y", String(height)]);
  }

  /** Polls the pane until `match` accepts it; fails with the last screen. */
  async waitFor(what: string, match: (screen: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < end) {
      screen = await this.capture();
      if (match(screen)) return screen;
      await sleep(200);
    }
    throw new Error(`tmux: waiting for ${what} timed out after ${timeoutMs / 1000} s; screen:\n${screen}`);
  }

  /** Ends this session's own tmux server (and the command in it). */
  async kill(): Promise<void> {
    await tmux(this.socket, ["kill-server"]).catch(() => undefined);
  }
}
