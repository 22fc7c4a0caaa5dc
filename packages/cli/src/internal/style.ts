/**
 * Terminal colour, without a colour library: a few SGR codes, switched on or off once per
 * process by {@link setColor} (the base command decides from --color/--no-color, NO_COLOR,
 * FORCE_COLOR and whether stdout is a terminal). Keeping chalk out also keeps it off the
 * start-up path of every command.
 */
const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type StyleName = keyof typeof CODES;
export type Paint = Record<StyleName, (text: string) => string>;

let enabled = false;

/** Whether colour is on. */
export function colorEnabled(): boolean {
  return enabled;
}

export function setColor(on: boolean): void {
  enabled = on;
}

/**
 * Colour or not, first rule that applies wins: the --color/--no-color flag, then NO_COLOR
 * (any non-empty value, https://no-color.org), then FORCE_COLOR (non-empty and not "0"),
 * then whether the stream is a terminal.
 */
export function shouldColor(flag: boolean | undefined, env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY;
}

function make(on: () => boolean): Paint {
  const out = {} as Paint;
  for (const [name, [open, close]] of Object.entries(CODES) as [StyleName, readonly [number, number]][]) {
    out[name] = (text) => (on() ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  }
  return out;
}

/** Colours that follow {@link setColor}. */
export const paint: Paint = make(() => enabled);
/** Never coloured: for lines that go to logs and files. */
export const plain: Paint = make(() => false);
