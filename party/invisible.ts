/**
 * Characters that change what text says without being seen: zero-width spaces and joiners, the
 * bidirectional controls (an override shows `txt.exe` as `exe.txt`), invisible fillers, and the tag
 * characters (U+E0000–U+E007F), which can carry a whole hidden ASCII message, e.g. instructions to
 * an AI agent. Text that agents write (titles, mail, escalations, output) is shown to people with
 * each of them written out as `⟨U+202E⟩`, so what a person reads is what is there. The stored text
 * stays as it was sent: only what is shown is marked.
 *
 * A pure, dependency-free leaf: the rooms, the container, gt (bundled: no zod) and the dashboard
 * all import it.
 */

/**
 * Invisible and reordering characters: soft hyphen, combining grapheme joiner, Arabic letter mark,
 * Hangul fillers, Khmer inherent vowels, Mongolian vowel separator, U+200B–U+200F (zero-width space,
 * non-joiner, joiner, LRM, RLM), U+202A–U+202E (embeddings, overrides), U+2060–U+206F (word joiner,
 * invisible operators, isolates, deprecated format controls), the BOM, interlinear annotation
 * controls, shorthand and musical format controls, tags. Variation selectors are left out: every
 * emoji with a text/emoji choice (`⚠️`) carries one, and they cannot hide or reorder text.
 */
const INVISIBLE_CLASS =
  "\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u3164\\ufeff\\uffa0\\ufff9-\\ufffb\\u{1bca0}-\\u{1bca3}\\u{1d173}-\\u{1d17a}\\u{e0000}-\\u{e007f}";

/** Variation selectors: not shown marked (see above), but never part of a secret either. */
const SELECTOR_CLASS = "\\ufe00-\\ufe0f\\u180b-\\u180d\\u180f\\u{e0100}-\\u{e01ef}";

/**
 * A zero-width joiner inside an emoji sequence (👩‍💻: a pictograph, an optional skin tone or
 * emoji selector, the joiner, a pictograph) is how that emoji is written, not a hidden character.
 */
const EMOJI_JOINER = /\u200d(?<=\p{Extended_Pictographic}[\u{1f3fb}-\u{1f3ff}\ufe0f]?\u200d)(?=\p{Extended_Pictographic})/u;

/** Every invisible or reordering character (the emoji joiner too). */
export const INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, "gu");

const TO_MARK = new RegExp(`(${EMOJI_JOINER.source})|[${INVISIBLE_CLASS}]`, "gu");

/** One character written visibly: `⟨U+202E⟩`. */
const markOf = (char: string): string => `⟨U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`;

/** A mark as `showInvisible` writes it: redaction reads past these as it reads past the characters. */
export const MARK = /⟨U\+[0-9A-F]{4,6}⟩/;

const UNSEEN = new RegExp(`^[${INVISIBLE_CLASS}${SELECTOR_CLASS}]$`, "u");

/** Whether `char` (one code point) is invisible or a variation selector: nothing a reader sees. */
export const isInvisible = (char: string): boolean => UNSEEN.test(char);

const ANY = new RegExp(`[${INVISIBLE_CLASS}]`, "u");

/** `text` with every invisible or reordering character written out as `⟨U+XXXX⟩`; other text unchanged. */
export function showInvisible(text: string): string {
  if (!ANY.test(text)) return text; // most text: one scan, nothing made
  return text.replace(TO_MARK, (char, joiner?: string) => (joiner ? char : markOf(char)));
}
