/** The dashboard's copy of the rooms' documents, with invisible characters written out (web/src/lib/shown-text.ts). */
import { describe, expect, it } from "vitest";
import { shown } from "../../web/src/lib/shown-text.ts";

describe("the dashboard's shown copy of a document's records", () => {
  it("marks every string, deeply, and leaves the record as it is where nothing needs marking", () => {
    const bead = {
      id: "01J0",
      title: "Fix\u202e the build",
      body: "ok",
      history: [{ note: "zero\u200bwidth", at: 1 }],
      labels: ["a", "b\u2066"],
      n: 3,
      done: false,
      gone: null,
    };
    expect(shown(bead)).toEqual({ ...bead, title: "Fix⟨U+202E⟩ the build", history: [{ note: "zero⟨U+200B⟩width", at: 1 }], labels: ["a", "b⟨U+2066⟩"] });
    expect(bead.title).toBe("Fix\u202e the build"); // the document's own value is not touched
    const clean = { id: "01J1", title: "plain", history: [{ note: "x" }] };
    expect(shown(clean)).toBe(clean);
  });
});
