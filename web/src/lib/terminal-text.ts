/**
 * Agent output is whatever a process printed: colours, cursor moves, progress bars redrawn with
 * `\r`, window-title escapes, bidirectional overrides. The dashboard shows it as plain text (always
 * as a text node, never as HTML), with every control sequence removed and every invisible or
 * reordering character written out (`⟨U+202E⟩`), so a hostile or merely colourful agent cannot
 * restyle, reorder or spoof what an operator reads. (The room stores lines marked already; a line
 * stored before it did is marked here.)
 */
import { showInvisible } from "../../../party/invisible.ts";

/** ESC/CSI sequences: CSI (`ESC [` or U+009B … final byte), OSC (`ESC ]` … BEL or ST), DCS/SOS/PM/APC strings, and two- or three-byte escapes (`ESC ( B`, `ESC =`). */
const ESCAPES = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|\u001b[ -/]*[0-~]?/g;
/** C0 controls but tab, DEL and C1 controls left over after the sequences are gone. */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** Longest line kept for the screen; the room stores more, and the full text is one search away. */
export const MAX_SHOWN_CHARS = 4000;

/** One printed line as a person should read it: the last redraw of a `\r` line, no control characters. */
export function cleanLine(text: string): string {
  let line = text.replace(ESCAPES, "");
  // A progress bar redraws the line after `\r`: what stayed on the terminal is the last redraw.
  const parts = line.split("\r").filter((p) => p.length > 0);
  line = parts.length ? parts[parts.length - 1]! : "";
  line = showInvisible(line.replace(CONTROLS, ""));
  return line.length > MAX_SHOWN_CHARS ? `${line.slice(0, MAX_SHOWN_CHARS)}…` : line;
}

/** `text` cut into the pieces that match `query` (case-insensitive) and those that do not, for highlighting. */
export function splitMatches(text: string, query: string): { text: string; match: boolean }[] {
  if (!query) return [{ text, match: false }];
  const pieces: { text: string; match: boolean }[] = [];
  // Lower-casing can change a string's length (İ → i̇); then match exactly, so offsets stay true.
  const folds = text.toLowerCase().length === text.length;
  const lower = folds ? text.toLowerCase() : text;
  const needle = folds ? query.toLowerCase() : query;
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
    if (at > from) pieces.push({ text: text.slice(from, at), match: false });
    pieces.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length) pieces.push({ text: text.slice(from), match: false });
  return pieces;
}
