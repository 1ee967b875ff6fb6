import { describe, expect, it } from "vitest";
import { plain, plainJson } from "../../party/plain-text.ts";

describe("plain", () => {
  it("keeps text, newlines and tabs, and drops escape sequences and control characters", () => {
    expect(plain("Fix the build\n\twith tabs, ümlauts and 😀")).toBe("Fix the build\n\twith tabs, ümlauts and 😀");
    // CSI: colours, clearing the screen, moving the cursor up to overwrite what was printed.
    expect(plain("\x1b[31mred\x1b[0m \x1b[2J\x1b[1;1Hhome \x1b[1A\x1b[2Kover")).toBe("red home over");
    // OSC: the window title (ended by BEL), a hyperlink (ended by ST), one never ended.
    expect(plain("\x1b]0;pwned\x07title \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ end\x1b]0;open")).toBe("title link end");
    // Bare controls: carriage return (overwrites the line), backspace, bell, a lone ESC, DEL, NUL.
    expect(plain("ok\rFAKE\b\x07\x1bc\x7f\x00!")).toBe("okFAKEc!");
    // C1 controls (U+0080–U+009F), e.g. the 8-bit CSI U+009B, which some terminals obey.
    expect(plain("a\u009b2Jb\u0085c\u009d0;t\u009cd")).toBe("a2Jbc0;td");
  });

  it("writes invisible and reordering characters out, so a title reads as what it is", () => {
    // A bidi override would show this as "Fix the invoice.pdf"; zero-width spaces and a tag character are not seen at all.
    expect(plain("Fix the invoice\u202efdp.exe")).toBe("Fix the invoice⟨U+202E⟩fdp.exe");
    expect(plain("ad\u200bmin \u2066x\u2069 \ufeffhi\u{e0041}")).toBe("ad⟨U+200B⟩min ⟨U+2066⟩x⟨U+2069⟩ ⟨U+FEFF⟩hi⟨U+E0041⟩");
    expect(plain("👩‍💻 ⚠️ done")).toBe("👩‍💻 ⚠️ done");
  });
});

describe("plainJson", () => {
  it("writes DEL and C1 controls as escapes: nothing raw reaches the terminal, and the value parses back unchanged", () => {
    const value = { title: "a\u009b2J\x7f\x1b[31mb", n: 1 };
    const text = plainJson(value);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(plain(text)).toBe(text);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("writes invisible characters as escapes too: seen in the terminal, exact when parsed", () => {
    const value = { title: "pay\u202e\u200bme\u{e0041}", by: "👩‍💻" };
    const text = plainJson(value);
    expect(text).toContain("pay\\u202e\\u200bme\\udb40\\udc41");
    expect(plain(text)).toBe(text);
    expect(JSON.parse(text)).toEqual(value);
  });
});
