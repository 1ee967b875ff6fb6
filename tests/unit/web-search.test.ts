/** The town's one search (web/src/lib/search.ts): what it finds, where each hit opens, and what it says it did not search. */
import { describe, expect, it } from "vitest";
import type { Agent, Bead, Convoy, Mail, Rig } from "../../party/protocol.ts";
import { PER_KIND, notSearched, search, type SearchSources } from "../../web/src/lib/search.ts";

const rig = (id: string, name: string) => ({ id, name }) as Rig;
const alpha = rig("R1", "alpha");
const beta = rig("R2", "beta");
const sources = (extra: Partial<SearchSources> = {}): SearchSources => ({
  town: "demo",
  rigs: [alpha, beta],
  convoys: [
    {
      id: "C1",
      title: "Parser release",
      status: "open",
      beads: [{ rigId: "R2", rigName: "beta", beadId: "B9", title: "Tag the parser", status: "open", reason: "", rev: 1 }],
    } as unknown as Convoy,
  ],
  open: {
    rig: alpha,
    beads: [{ id: "B1", title: "Fix the parser", body: "", status: "failed" } as Bead],
    agents: [{ identity: "alpha/polecats/parsley", name: "parsley", status: "idle" } as Agent],
    mail: [{ id: "M1", from: "operator", to: "alpha/polecats/parsley", subject: "parser logs", body: "" } as Mail],
  },
  townMail: [{ id: "M2", from: "mayor", to: "operator", subject: "about the parser", body: "" } as Mail],
  ...extra,
});

describe("search", () => {
  it("groups beads, agents, mail, convoys and rigs, each with the page it opens", () => {
    const groups = search("pars", sources());
    expect(groups.map((g) => [g.kind, g.hits.map((h) => h.href)])).toEqual([
      ["bead", ["/t/demo/rigs/alpha/beads/B1", "/t/demo/rigs/beta/beads/B9"]],
      ["agent", ["/t/demo/rigs/alpha/agents/parsley"]],
      ["mail", ["/t/demo/rigs/alpha/agents/parsley#inbox", "/t/demo/mail"]],
      ["convoy", ["/t/demo/convoys/C1"]],
    ]);
    expect(search("beta", sources()).map((g) => g.kind)).toEqual(["rig"]);
    expect(search("   ", sources())).toEqual([]);
  });

  it("shows a few hits per kind and counts the rest", () => {
    const beads = Array.from({ length: PER_KIND + 3 }, (_, i) => ({ id: `B${i}`, title: `parser ${i}`, body: "", status: "open" }) as Bead);
    const [group] = search("parser", sources({ open: { rig: alpha, beads, agents: [], mail: [] }, convoys: [], townMail: [] }));
    expect(group).toMatchObject({ kind: "bead", more: 3 });
    expect(group!.hits).toHaveLength(PER_KIND);
  });

  it("says what it did not search: other rigs' documents, and the town's mail when it was not read", () => {
    expect(notSearched(sources())).toBe("Not searched: beads (outside convoys), agents and mail of rig beta: open a rig to search it.");
    expect(notSearched(sources({ open: undefined, townMail: null }))).toBe(
      "Not searched: beads (outside convoys), agents and mail of rigs alpha, beta: open a rig to search it; the town's mail (for town-wide operators).",
    );
    expect(notSearched(sources({ rigs: [alpha] }))).toBeNull();
  });
});
