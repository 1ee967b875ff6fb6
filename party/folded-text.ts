/**
 * A line as redaction reads it, with the way back to the line. Agents can print a secret so that it
 * looks the same to a person but not to a pattern: full-width letters (`ｅｙＪ…`), zero-width or
 * bidi characters between its letters, spaces, percent-escapes. Folding undoes that (NFKC, each
 * character by itself; invisible characters and their `⟨U+…⟩` marks left out; optionally
 * whitespace left out and escapes decoded), and remembers which part of the line each folded
 * character came from, so what matches in the fold is hidden in the line as printed.
 *
 * Most of a line is printable ASCII, which folds to itself: the fold keeps only its edits (what was
 * replaced, where), made by native regex replacement, and maps back through them.
 */
import { MARK, isInvisible } from "./invisible.ts";

/** One replaced piece: `length` folded characters at `at` came from `from`..`to` (exclusive) of the text folded. */
type Edit = { at: number; length: number; from: number; to: number };

/** A folded text and its edits, in order; between edits, characters map one to one. */
type Layer = { text: string; edits: Edit[] };

export type Folded = {
  text: string;
  /** The part of the line that `[start, end)` of the fold came from; an empty range stays empty, where it was. */
  inLine(start: number, end: number): [number, number];
};

export type FoldOptions = {
  /** Leave whitespace out (a secret printed with spaces between its letters). */
  dropSpaces: boolean;
  /** Decode one-character escapes: `%41`, `\x41`, `\u0041`, `\u{41}`, `&#65;`, `&#x41;`. */
  decode: boolean;
};

/** What can fold to something else: marks, anything not ASCII. Runs of whitespace too when it is dropped. */
const UNIT = new RegExp(`${MARK.source}|[^\\x00-\\x7f]`, "gu");
const UNIT_OR_SPACE = new RegExp(`${MARK.source}|[^\\x00-\\x7f]|\\s+`, "gu");
/**
 * Escapes of one character. Percent and `\x` escapes only below 0x80: a UTF-8 byte of a longer
 * character is not a character by itself (the secrets this serves, tokens and API keys, are ASCII).
 */
const ESCAPE = /%[0-7][0-9a-f]|\\x[0-7][0-9a-f]|\\u[0-9a-f]{4}|\\u\{[0-9a-f]{1,6}\}|&#x[0-9a-f]{1,6};|&#\d{1,7};/gi;

/** One code point, mark or run of whitespace as matching reads it: a mark or invisible one as nothing, the rest by NFKC. */
function foldUnit(unit: string, dropSpaces: boolean): string {
  if ((unit.length > 1 && unit.startsWith("⟨")) || isInvisible(unit)) return "";
  const code = unit.charCodeAt(0);
  // Full-width ASCII (U+FF01–U+FF5E) is what NFKC makes of it, without the cost of a call per character.
  const folded = code < 0x80 ? unit : code >= 0xff01 && code <= 0xff5e ? String.fromCharCode(code - 0xfee0) : unit.normalize("NFKC");
  return dropSpaces ? folded.replace(/\s/g, "") : folded;
}

/** The code point an escape stands for, or null (beyond Unicode). */
function unescape(escape: string): string | null {
  const digits = escape.replace(/^(?:%|\\x|\\u\{?|&#x?)|[};]$/gi, "");
  const code = /^&#\d/.test(escape) ? Number(digits) : parseInt(digits, 16);
  return code <= 0x10ffff ? String.fromCodePoint(code) : null;
}

/** `text` with each match of `pattern` replaced by `replace(match)` (null: kept), and the edits that made. */
function edit(text: string, pattern: RegExp, replace: (match: string) => string | null): Layer {
  const edits: Edit[] = [];
  let out = "";
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const replaced = replace(match[0]);
    if (replaced === null || replaced === match[0]) continue;
    out += text.slice(last, match.index) + replaced;
    edits.push({ at: out.length - replaced.length, length: replaced.length, from: match.index, to: match.index + match[0].length });
    last = match.index + match[0].length;
  }
  return { text: edits.length ? out + text.slice(last) : text, edits };
}

/** Where folded character `i` of `layer` came from, in the text the layer folded. */
function source(layer: Layer, i: number): [number, number] {
  let lo = 0;
  let hi = layer.edits.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (layer.edits[mid]!.at <= i) lo = mid + 1;
    else hi = mid;
  }
  const e = layer.edits[lo - 1];
  if (!e) return [i, i + 1];
  if (i < e.at + e.length) return [e.from, e.to];
  const at = e.to + (i - e.at - e.length);
  return [at, at + 1];
}

/** `line` folded for matching (see FoldOptions), with the way back to it. */
export function fold(line: string, options: FoldOptions): Folded {
  const layers = [edit(line, options.dropSpaces ? UNIT_OR_SPACE : UNIT, (unit) => foldUnit(unit, options.dropSpaces))];
  if (options.decode) {
    layers.push(
      edit(layers[0]!.text, ESCAPE, (escape) => {
        const char = unescape(escape);
        return char === null ? null : foldUnit(char, options.dropSpaces);
      }),
    );
  }
  const text = layers[layers.length - 1]!.text;
  /** A range of the last layer, back through each layer to the line. */
  const back = (start: number, end: number): [number, number] => {
    for (let l = layers.length - 1; l >= 0; l--) [start, end] = [source(layers[l]!, start)[0], source(layers[l]!, end - 1)[1]];
    return [start, end];
  };
  return {
    text,
    inLine(start, end) {
      if (end > start) return back(start, end);
      // Nothing matched but a place (a rule's kept prefix): just after the character before it.
      const at = start > 0 ? back(start - 1, start)[1] : 0;
      return [at, at];
    },
  };
}
