/** Which mail the bead page lists as the bead's (web/src/lib/related.ts): mail naming it, exactly. */
import { describe, expect, it } from "vitest";
import { aboutBead, names } from "../../web/src/lib/related.ts";

const bead = { id: "01JAAAAAAAAAAAAAAAAAB00001" };
const other = { id: "01JAAAAAAAAAAAAAAAAAB000012" };
const mail = (subject: string, body = "") => ({ subject, body });

describe("related mail", () => {
  it("is mail naming the bead by its id or short id, as a word", () => {
    expect(aboutBead(mail(`done: ${bead.id}`), bead)).toBe(true);
    expect(aboutBead(mail("question", `about bead ${bead.id.slice(-8)}, is it ok?`), bead)).toBe(true);
    expect(aboutBead(mail(`(${bead.id.toLowerCase()})`), bead)).toBe(true);
    expect(aboutBead(mail(`run ${bead.id}.2 failed`), bead)).toBe(true);
  });

  it("is not mail naming another bead whose id begins or ends with this one's", () => {
    expect(aboutBead(mail(`done: ${other.id}`, `merged ${other.id}`), bead)).toBe(false);
    expect(aboutBead(mail(`x${bead.id.slice(-8)}`), bead)).toBe(false);
    expect(names("b-12 merged", "b-1")).toBe(false);
    expect(names("b-1 merged", "b-1")).toBe(true);
    expect(names("see b-1.", "b-1")).toBe(true);
  });

  it("is not every mail of whoever holds the bead", () => {
    // From the bead's polecat, about something else: not the bead's.
    expect(aboutBead({ subject: "lunch", body: "nothing about beads" }, bead)).toBe(false);
  });
});
