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
});

describe("plainJson", () => {
  it("writes DEL and C1 controls as escapes: nothing raw reaches the terminal, and the value parses back unchanged", () => {
    const value = { title: "a\u009b2J\x7f\x1b[31mb", n: 1 };
    const text = plainJson(value);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(plain(text)).toBe(text);
    expect(JSON.parse(text)).toEqual(value);
  });
});
