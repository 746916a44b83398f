import type { ScreenLine, LineStyle } from "./render.js";

const ESC = "\u001b[";
const STYLES: Record<LineStyle, string> = { plain: "", title: `${ESC}7m`, node: `${ESC}1m`, dim: `${ESC}2m`, bad: `${ESC}31m`, good: `${ESC}32m` };

/** Lines as plain text (no terminal, e.g. --once into a file). */
export function plainFrame(lines: readonly ScreenLine[]): string {
  return `${lines.map((l) => l.text).join("\n")}\n`;
}

/** Lines as one ANSI write: each line at its row, cleared to the end, the rest of the screen cleared. */
export function ansiFrame(lines: readonly ScreenLine[]): string {
  const body = lines.map((l, i) => `${ESC}${i + 1};1H${STYLES[l.style]}${l.text}${ESC}0m${ESC}K`).join("");
  return `${body}${ESC}${lines.length + 1};1H${ESC}J`;
}

/**
 * The terminal while the dashboard runs: alternate screen, hidden cursor,
 * raw keyboard. `restore` undoes all of it, exactly once, whatever ends the
 * dashboard (q, Ctrl-C, a signal, an exception), so the shell is left as it was.
 */
export class TerminalSession {
  private restored = false;
  private readonly onExit = () => this.restore();
  private onKey: ((key: string) => void) | undefined;
  private onResize: (() => void) | undefined;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
  ) {}

  get size(): { width: number; height: number } {
    return { width: this.output.columns || 80, height: this.output.rows || 24 };
  }

  /** Enters the dashboard screen; `onKey` gets each key press, `onResize` each size change. */
  enter(onKey: (key: string) => void, onResize: () => void): void {
    this.output.write(`${ESC}?1049h${ESC}?25l${ESC}2J`);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.input.setEncoding("utf8");
    this.onKey = onKey;
    this.onResize = onResize;
    this.input.on("data", onKey);
    this.input.resume();
    this.output.on("resize", onResize);
    // Belt and braces: even an exit we did not plan for gives the shell its screen back.
    process.once("exit", this.onExit);
  }

  draw(lines: readonly ScreenLine[]): void {
    if (!this.restored) this.output.write(ansiFrame(lines));
  }

  restore(): void {
    if (this.restored) return;
    this.restored = true;
    process.removeListener("exit", this.onExit);
    if (this.input.isTTY) this.input.setRawMode(false);
    this.input.pause();
    if (this.onKey) this.input.removeListener("data", this.onKey);
    if (this.onResize) this.output.removeListener("resize", this.onResize);
    this.output.write(`${ESC}0m${ESC}?25h${ESC}?1049l`);
  }
}

/** Keys that end the dashboard: q, Q, Ctrl-C (raw mode delivers it as a byte, not SIGINT), Ctrl-D. */
export function isQuitKey(key: string): boolean {
  return key === "q" || key === "Q" || key === "\u0003" || key === "\u0004";
}
