/** Whether a line still holds any of a secret that redaction (party/redact.ts) was to hide: for the unit corpus and the container's real path alike. */
import { expect } from "vitest";
import { REDACTED } from "../../party/redact.ts";

/** The marker of a line the container cut (LIMITS.outputLineBytes): what was past it never left. */
export const CUT = / … \[line cut: \d+ bytes\]$/;

/** What is left of a line once its `[redacted]` parts, what a reader skips (marks, whitespace) and base64 padding (it carries nothing) are taken out, piece by piece. */
export const leftovers = (text: string) =>
  text.split(REDACTED).map((piece) =>
    piece
      .replace(/⟨U\+[0-9A-F]+⟩/g, "")
      .normalize("NFKC")
      .replace(/\s/g, "")
      .replace(/=+$/, ""),
  );

/**
 * No form of the secret survives: the line keeps the text around it and `[redacted]` where the
 * secret was, with at most 3 characters on each side of it (base64 begins and ends with a
 * character that mixes the secret's bits with its neighbours', and `=` padding), too few to carry
 * any of it. A dressed form can make the line longer than the container keeps: then it is cut,
 * and the text after the secret is gone with what was past the cut.
 */
export function expectHidden(line: string, before: string, after: string): void {
  expect(line.startsWith(before), line).toBe(true);
  const cut = CUT.test(line);
  if (!cut) expect(line.endsWith(after), line).toBe(true);
  const middle = cut ? line.slice(before.length).replace(CUT, "") : line.slice(before.length, line.length - after.length);
  expect(middle, line).toContain(REDACTED);
  const pieces = leftovers(middle);
  // A cut can fall inside an escape: what is left of it is not one character yet.
  if (cut) pieces.push(pieces.pop()!.replace(/(?:&#x?[0-9a-f]*|%[0-9a-f]?|\\(?:x[0-9a-f]?|u\{?[0-9a-f]*)?)$/i, ""));
  for (const piece of pieces) expect(piece.length, `${line}: ${piece}`).toBeLessThanOrEqual(3);
}
