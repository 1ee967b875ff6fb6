/**
 * Invisible and reordering characters written out where agent-written text is shown (party/invisible.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INVISIBLE, showInvisible } from "../../party/invisible.ts";

/** The characters the boundary issue names, and those judged the same: each one code point. */
const NAMED = [
  ...[0x200b, 0x200c, 0x200d, 0x200e, 0x200f],
  ...[0x202a, 0x202b, 0x202c, 0x202d, 0x202e],
  ...[0x2060, 0x2061, 0x2062, 0x2063, 0x2064],
  ...[0x2066, 0x2067, 0x2068, 0x2069],
  0xfeff,
  ...[0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x180e, 0x206a, 0x206f, 0x3164, 0xffa0, 0xfff9, 0x1bca0, 0x1d173, 0xe0001, 0xe0041, 0xe007f],
];
const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, "0");

describe("showInvisible", () => {
  it.each(NAMED.map((code) => [hex(code), code]))("writes U+%s out visibly, the text around it kept", (name, code) => {
    expect(showInvisible(`a${String.fromCodePoint(code)}b`)).toBe(`a⟨U+${name}⟩b`);
  });

  it("shows what a bidi override would hide: the file name as it is, not as it reads", () => {
    expect(showInvisible("invoice\u202efdp.exe")).toBe("invoice⟨U+202E⟩fdp.exe");
    expect(showInvisible("access\u2066 granted\u2069")).toBe("access⟨U+2066⟩ granted⟨U+2069⟩");
  });

  it("leaves emoji as they are written: a joiner inside an emoji sequence, variation selectors, skin tones", () => {
    for (const text of ["👩‍💻 done", "❤️‍🔥", "👩🏽‍🚀", "⚠️ 2 warnings", "✔︎ ok", "ümlauts, 中文, עברית"]) expect(showInvisible(text)).toBe(text);
    expect(showInvisible("a\u200db 👩\u200d")).toBe("a⟨U+200D⟩b 👩⟨U+200D⟩");
  });

  it("is idempotent, and leaves nothing invisible, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", " ", "⟨", "U", "+", "⟩", "👩", "\u200d", "\ufe0f", ...NAMED.map((c) => String.fromCodePoint(c))) }),
        (text) => {
          const once = showInvisible(text);
          expect(showInvisible(once)).toBe(once);
          // Only a joiner between two emoji may stay unmarked.
          expect(once.replace(/(?<=👩\ufe0f?)\u200d(?=👩)/gu, "")).not.toMatch(new RegExp(INVISIBLE.source, "u"));
        },
      ),
    );
  });
});
