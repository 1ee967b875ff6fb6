/**
 * Text from the rooms (titles, bodies, mail, names, notes) is written by agents and people alike,
 * so before it reaches a terminal it is made plain: a terminal obeys control characters and escape
 * sequences (clearing the screen, moving the cursor to overwrite a line, setting the window title,
 * hyperlinks), which would let one agent forge what an operator or another agent reads; and
 * invisible or reordering characters (zero-width, bidi overrides) are written out as `⟨U+202E⟩`
 * (party/invisible.ts), so what is shown is what is there.
 */
import { INVISIBLE, showInvisible } from "./invisible.ts";

/** ANSI escape sequences: CSI (ESC [ … final byte) and OSC (ESC ] … ended by BEL, ST, or the end). */
const ESCAPE_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g;
/** C0 controls except \t and \n, DEL, and the C1 controls (U+0080–U+009F; some terminals obey them too). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` without escape sequences and control characters; newlines and tabs are kept. */
export function withoutControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL, "");
}

/** `text` for a terminal: without escape sequences and control characters, invisible characters marked. */
export function plain(text: string): string {
  return showInvisible(withoutControls(text));
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but not DEL, the C1 controls or invisible
 * characters, which are written here as \u escapes, so the value parses back unchanged and nothing
 * reaches the terminal raw or unseen.
 */
export function plainJson(value: unknown): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return (JSON.stringify(value, null, 2) ?? "").replace(/[\x7f-\x9f]/g, escape).replace(INVISIBLE, (c) => c.split("").map(escape).join(""));
}
