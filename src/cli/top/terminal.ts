/**
 * The terminal side of `mesh top`: the alternate screen (the shell's scrollback is left as it
 * was), frames drawn from the cursor home, keys (`q`, Ctrl-C) and resizes, and the restore that
 * must happen however the view ends — `q`, Ctrl-C, SIGTERM (main.ts aborts the command's signal)
 * or an exit that skips `finally` (the restore also runs on the process's `exit`).
 */

/** What `mesh top` needs of the process's terminal; process.stdin/stdout fit it. */
export interface TopTerminal {
  stdout: {
    isTTY?: boolean;
    columns?: number;
    rows?: number;
    write(text: string): unknown;
    on(event: 'resize', listener: () => void): unknown;
    off(event: 'resize', listener: () => void): unknown;
  };
  stdin: {
    isTTY?: boolean;
    /** Absent when stdin is not a TTY. */
    setRawMode?: (raw: boolean) => unknown;
    on(event: 'data', listener: (data: Buffer | string) => void): unknown;
    off(event: 'data', listener: (data: Buffer | string) => void): unknown;
    resume(): unknown;
    pause(): unknown;
  };
  env: NodeJS.ProcessEnv;
  /** Registers a last-chance restore on process exit; returns its removal. */
  onExit(listener: () => void): () => void;
}

/** The real process's terminal. */
export function processTerminal(): TopTerminal {
  return {
    stdout: process.stdout,
    stdin: process.stdin,
    env: process.env,
    onExit(listener) {
      process.once('exit', listener);
      return () => process.off('exit', listener);
    },
  };
}

const ESC = '\u001b[';
/** Alternate screen on, cursor hidden. */
export const ENTER_SCREEN = `${ESC}?1049h${ESC}?25l`;
/** Cursor shown, alternate screen off: the shell's screen comes back as it was. */
export const LEAVE_SCREEN = `${ESC}?25h${ESC}?1049l`;

/**
 * One full-screen frame: cursor home, each line cleared to its end, then the rest of the screen
 * cleared. The same picture as clear-then-draw without the blank flash between the two.
 */
export const screenFrame = (lines: readonly string[]): string =>
  `${ESC}H${lines.map((l) => `${l}${ESC}K`).join('\n')}${ESC}J`;

/** A full-screen session: `draw` frames, `close` restores the terminal (idempotent). */
export interface Screen {
  draw(lines: readonly string[]): void;
  close(): void;
}

/** Keys that quit: `q`, `Q`, and Ctrl-C (which raw mode delivers as a byte, not as SIGINT). */
const isQuit = (data: Buffer | string) => ['q', 'Q', '\u0003'].some((key) => data.toString().includes(key));

/**
 * Enters the alternate screen; with a TTY stdin, reads keys in raw mode and calls `onQuit` on
 * `q` or Ctrl-C. `onResize` is called when the terminal changes size.
 */
export function openScreen(term: TopTerminal, onQuit: () => void, onResize: () => void): Screen {
  const keys = Boolean(term.stdin.isTTY && term.stdin.setRawMode);
  const onData = (data: Buffer | string) => {
    if (isQuit(data)) onQuit();
  };
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    term.stdout.off('resize', onResize);
    if (keys) {
      term.stdin.off('data', onData);
      term.stdin.setRawMode?.(false);
      term.stdin.pause();
    }
    term.stdout.write(LEAVE_SCREEN);
    removeExit();
  };
  const removeExit = term.onExit(close);
  term.stdout.write(ENTER_SCREEN);
  term.stdout.on('resize', onResize);
  if (keys) {
    term.stdin.setRawMode?.(true);
    term.stdin.on('data', onData);
    term.stdin.resume();
  }
  return {
    draw: (lines) => {
      if (open) term.stdout.write(screenFrame(lines));
    },
    close,
  };
}
