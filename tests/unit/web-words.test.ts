/**
 * The dashboard's pure rules for the feed and its words: tones (the room's, or read from the kind),
 * filters by kind and rig, links to what an event names, plurals, polecats apart from the witness
 * and refinery, rig names in paths.
 */
import { describe, expect, it } from "vitest";
import type { Agent, FeedEvent, Rig } from "../../party/protocol.ts";
import { ALL, PROBLEMS, facets, feedLinks, feedTone, visibleEvents } from "../../web/src/lib/feed.ts";
import { boundaryGap, plural, polecatCounts, polecatLine, withRigNames } from "../../web/src/lib/words.ts";

let n = 0;
const ev = (kind: string, extra: Partial<FeedEvent> = {}): FeedEvent => ({ id: `e${++n}`, at: n, kind, text: `${kind} ${n}`, ...extra });

describe("feed", () => {
  it("an event's tone is the room's, else read from its kind, else info", () => {
    expect(feedTone(ev("witness", { tone: "bad" }))).toBe("bad");
    expect(feedTone(ev("failed"))).toBe("bad");
    expect(feedTone(ev("escalation"))).toBe("bad");
    expect(feedTone(ev("dead"))).toBe("bad");
    expect(feedTone(ev("stalled"))).toBe("warn");
    expect(feedTone(ev("hung"))).toBe("warn");
    expect(feedTone(ev("landed"))).toBe("good");
    expect(feedTone(ev("sling"))).toBe("info");
    expect(feedTone(ev("failed", { tone: "info" }))).toBe("info");
  });

  it("filters by kind, by problems and by rig; newest first, at most `limit`", () => {
    const events = [
      ev("sling", { rig: "alpha" }),
      ev("failed", { rig: "beta", tone: "bad" }),
      ev("mail"),
      ev("sling", { rig: "beta" }),
      ev("stalled", { rig: "alpha" }),
    ];
    const ids = (list: FeedEvent[]) => list.map((e) => e.kind + (e.rig ? `@${e.rig}` : ""));
    expect(ids(visibleEvents(events, ALL, 10))).toEqual(["stalled@alpha", "sling@beta", "mail", "failed@beta", "sling@alpha"]);
    expect(ids(visibleEvents(events, ALL, 2))).toEqual(["stalled@alpha", "sling@beta"]);
    expect(ids(visibleEvents(events, { kind: "sling", rig: "" }, 10))).toEqual(["sling@beta", "sling@alpha"]);
    expect(ids(visibleEvents(events, { kind: PROBLEMS, rig: "" }, 10))).toEqual(["stalled@alpha", "failed@beta"]);
    expect(ids(visibleEvents(events, { kind: "", rig: "beta" }, 10))).toEqual(["sling@beta", "failed@beta"]);
    // An event that names no rig is only under "all rigs".
    expect(ids(visibleEvents(events, { kind: "mail", rig: "alpha" }, 10))).toEqual([]);
    expect(facets(events)).toEqual({ kinds: ["failed", "mail", "sling", "stalled"], rigs: ["alpha", "beta"] });
  });

  it("links the rig, bead and agent an event names, and nothing it does not", () => {
    const base = "/t/demo";
    expect(feedLinks(ev("failed", { rig: "beta", bead: "01J0000000000000000000BEAD", agent: "beta/polecats/toast" }), base)).toEqual([
      { kind: "rig", label: "beta", href: "/t/demo/rigs/beta" },
      { kind: "bead", label: "bead 0000BEAD", href: "/t/demo/rigs/beta/beads/01J0000000000000000000BEAD" },
      { kind: "agent", label: "toast", href: "/t/demo/rigs/beta/agents/toast" },
    ]);
    // The rig comes from the agent's identity when the event names none; in a rig's own feed, from the rig.
    expect(feedLinks(ev("dead", { agent: "alpha/witness" }), base).map((l) => l.href)).toEqual(["/t/demo/rigs/alpha/agents/witness"]);
    expect(feedLinks(ev("bead", { bead: "01J0000000000000000000BEAD" }), base, "alpha").map((l) => l.href)).toEqual([
      "/t/demo/rigs/alpha/beads/01J0000000000000000000BEAD",
    ]);
    // No rig link to the rig whose feed this is; the Mayor has no page; an event with no names, no links.
    expect(feedLinks(ev("sling", { rig: "alpha" }), base, "alpha")).toEqual([]);
    expect(feedLinks(ev("mail", { agent: "mayor" }), base)).toEqual([]);
    expect(feedLinks(ev("rig"), base)).toEqual([]);
  });
});

describe("words", () => {
  const rig = (polecats?: Rig["summary"]["polecats"]): Rig =>
    ({ id: "01J00000000000000000000RIG", name: "backend", summary: { polecats, agents: { working: 3, idle: 2 } } }) as unknown as Rig;
  const agent = (role: Agent["role"], status: Agent["status"]): Agent => ({ identity: `backend/${role}`, role, name: role, status });

  it("plurals", () => {
    expect(plural(1, "polecat")).toBe("1 polecat");
    expect(plural(0, "polecat")).toBe("0 polecats");
    expect(plural(2, "escalation")).toBe("2 escalations");
  });

  it("polecats are counted apart from the witness and refinery", () => {
    const agents = [agent("polecat", "working"), agent("polecat", "idle"), agent("witness", "working"), agent("refinery", "working")];
    expect(polecatCounts(rig(), agents)).toEqual({ working: 1, idle: 1 });
    expect(polecatCounts(rig({ working: 2, idle: 0, stalled: 0, hung: 0, stopping: 0, dead: 0 }))).toMatchObject({ working: 2 });
    expect(polecatCounts(rig()), "unknown without the rig's document or its count").toBeNull();
    expect(polecatLine({ working: 1, idle: 1 }, 3)).toBe("1 of 2 polecats working · up to 3");
    expect(polecatLine({ working: 1 }, 1)).toBe("1 of 1 polecat working · up to 1");
    expect(polecatLine({}, 1)).toBe("up to 1 polecat");
    expect(polecatLine(null, 4)).toBe("up to 4 polecats");
  });

  it("rig ids in paths read as rig names", () => {
    const rigs = [{ id: "01J00000000000000000000RIG", name: "backend" }];
    expect(withRigNames("rigs/01J00000000000000000000RIG/worktrees/toast", rigs)).toBe("rigs/backend/worktrees/toast");
    expect(withRigNames("rigs/other/worktrees/toast", rigs)).toBe("rigs/other/worktrees/toast");
  });
});

describe("boundaryGap", () => {
  const rigWith = (boundary?: Rig["summary"]["boundary"]) => ({ summary: { ...(boundary ? { boundary } : {}) } }) as Pick<Rig, "summary">;
  it("says what agents can reach when the container does not enforce the boundary, and nothing when it does or has not said", () => {
    expect(boundaryGap(rigWith())).toBeNull();
    expect(boundaryGap(rigWith({ processes: true, network: true, missing: [] }))).toBeNull();
    expect(boundaryGap(rigWith({ processes: true, network: false, missing: ["network: nftables is not installed"] }))).toBe(
      "Agents of this rig can reach local services: network: nftables is not installed",
    );
    expect(boundaryGap(rigWith({ processes: false, network: false, missing: ["processes: not root", "network: not root"] }))).toBe(
      "Agents of this rig can reach other processes and local services: processes: not root; network: not root",
    );
  });
});
