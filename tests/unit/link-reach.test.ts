/**
 * The dashboard's idea of what a session reads (web/src/lib/reach.ts) is the rooms' (party/access.ts):
 * for every kind of token, the page opens the document the room grants and says "not part of this
 * link" exactly where the room would refuse. And what the Share dialog says a link shows.
 */
import { describe, expect, it } from "vitest";
import { admit, type RoomRef } from "../../party/access.ts";
import type { ShareView, TokenPayload } from "../../party/protocol.ts";
import { linkShows, reachOf, readsOutput, readsTownMail } from "../../web/src/lib/reach.ts";
import { rigFromDoc } from "../../web/src/lib/rig-from-doc.ts";
import type { Session } from "../../web/src/lib/session.ts";

const A = "01J0000000000000000000AAA1";
const B = "01J0000000000000000000BBB1";
const BEAD = "01J0000000000000000000CCC1";
const TOWN: RoomRef = { party: "main", town: "demo" };
const RIG_A: RoomRef = { party: "rig", town: "demo", rigId: A, rigName: "alpha" };

const tokens: [string, Partial<TokenPayload>][] = [
  ["town-wide operator", { role: "operator" }],
  ["rig-scoped operator", { role: "operator", rig: A }],
  ["town-wide viewer", { role: "viewer" }],
  ["rig-scoped viewer", { role: "viewer", rig: A }],
  ...(
    [
      { kind: "town" },
      { kind: "rig", rig: A },
      { kind: "bead", rig: A, bead: BEAD },
      { kind: "agent", rig: A, agent: "toast" },
      { kind: "agent", rig: B, agent: "toast" },
      { kind: "convoy", convoy: BEAD },
      { kind: "mail" },
    ] as ShareView[]
  ).map((view): [string, Partial<TokenPayload>] => [`link ${JSON.stringify(view)}`, { role: "viewer", view }]),
];

const payload = (t: Partial<TokenPayload>): TokenPayload => ({ sub: "x", town: "demo", iat: 1, exp: 2, jti: "j", role: "operator", ...t });
const session = (t: Partial<TokenPayload>): Session => ({
  town: "demo",
  token: "t",
  role: t.role ?? null,
  exp: null,
  rig: t.rig ?? null,
  view: t.view ?? null,
  kept: "tab",
});

describe("what a page opens is what the room grants", () => {
  it.each(tokens)("%s", (_, t) => {
    const reach = reachOf(session(t));
    const granted = (doc: "town" | "scope" | "mail") => admit(payload(t), TOWN, { kind: "doc", doc }).ok;
    expect({ town: reach.kind === "town", scope: reach.kind === "scope" }).toEqual({ town: granted("town"), scope: granted("scope") });
    if (reach.kind === "rig") expect(admit(payload(t), { ...RIG_A, rigId: reach.rigId }, { kind: "doc", doc: "rig" }).ok).toBe(true);
    expect(readsTownMail(session(t))).toBe(granted("mail"));
    // An agent's page reads its output where the room admits the output socket for it (a bead link reads its bead's runs on the bead's page).
    const agentOutput = admit(payload(t), RIG_A, { kind: "output", identity: "alpha/polecats/toast" }).ok && t.view?.kind !== "bead";
    expect(readsOutput(session(t), A, { agent: "toast" })).toBe(agentOutput);
  });
});

describe("the Share dialog says what a link shows", () => {
  it("a rig, bead or agent link: that rig only; a convoy link: that convoy only; the town: the whole town", () => {
    expect(linkShows("/t/demo/rigs/docs")).toMatch(/^rig docs only: .*nothing of other rigs, the town's overview, its convoys or its mail/);
    expect(linkShows("/t/demo/rigs/docs/beads/x")).toMatch(/^rig docs only: .*this bead's runs and output/);
    expect(linkShows("/t/demo/rigs/docs/agents/toast")).toMatch(/^rig docs only: .*agent toast's output/);
    expect(linkShows("/t/demo/convoys/x")).toMatch(/^this convoy only/);
    expect(linkShows("/t/demo")).toMatch(/^the whole town/);
  });
});

describe("a rig made from its own document", () => {
  it("counts its beads, agents and open escalations (archived ones too), and claims nothing only the registry knows", () => {
    const rig = rigFromDoc(
      A,
      { name: "docs", status: "ready", maxPolecats: 2, defaultBranch: "main", gitUrl: "x", archivedClosed: 5, archivedOpenEscalations: 1 },
      { b1: { status: "open" }, b2: { status: "failed" }, b3: { status: "closed" } },
      { p: { identity: "docs/polecats/p", role: "polecat", name: "p", status: "working" } as never },
      { e1: { status: "open" } as never, e2: { status: "resolved" } as never },
    );
    expect(rig).toMatchObject({
      id: A,
      name: "docs",
      capabilities: [],
      summary: { beads: { open: 1, failed: 1, closed: 6 }, openEscalations: 2, polecats: { working: 1 } },
    });
    expect(rig.runtime).toBeUndefined();
    expect(rig.summary.usage).toBeUndefined();
  });
});
