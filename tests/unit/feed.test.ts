/**
 * Feed events as pure decisions (party/feed.ts): tones, what reaches the town's feed, the window that
 * bounds a rig's notices to the town, and the work machine's failure lines (party/work/).
 */
import { describe, expect, it } from "vitest";
import { TOWN_NOTICES, admitNotice, escalationTone, forTown, makeEvent, mergedEvent, reachesTown, toneOf, type NoticeWindow } from "../../party/feed.ts";
import { LIMITS, type Agent, type Bead } from "../../party/protocol.ts";
import { emptyLease, step, type Effect, type LeaseState, type Liveness, type WorkConfig, type WorkEvent } from "../../party/work/index.ts";

describe("tones", () => {
  it("failures are bad or warnings, landings good, the rest information", () => {
    expect(toneOf("failed")).toBe("bad");
    expect(toneOf("dead")).toBe("bad");
    expect(toneOf("stalled")).toBe("warn");
    expect(toneOf("hung")).toBe("warn");
    expect(toneOf("landed")).toBe("good");
    expect(toneOf("mail")).toBe("info");
    expect(toneOf("sling")).toBe("info");
    expect(escalationTone("critical")).toBe("bad");
    expect(escalationTone("high")).toBe("bad");
    expect(escalationTone("medium")).toBe("warn");
    expect(escalationTone("low")).toBe("warn");
  });

  it("an event gets its kind's tone unless told, says what it is about, and is one bounded line", () => {
    expect(makeEvent("E", 1, "failed", "bead x failed", { bead: "B" })).toEqual({
      id: "E",
      at: 1,
      kind: "failed",
      text: "bead x failed",
      tone: "bad",
      bead: "B",
    });
    expect(makeEvent("E", 1, "merge", "merged after all", { tone: "good" }).tone).toBe("good");
    const long = makeEvent("E", 1, "escalation", `t\n${"x".repeat(10_000)}`, { agent: "a/polecats/toast" });
    expect(long.text).toHaveLength(LIMITS.feedText);
    expect(long.text).not.toMatch(/\n/);
    expect(long.agent).toBe("a/polecats/toast");
  });

  it("failures reach the town's feed; landings and routine lines stay in the rig", () => {
    for (const kind of ["failed", "escalation", "stalled", "hung", "dead"]) expect(reachesTown({ kind, tone: toneOf(kind) })).toBe(true);
    expect(reachesTown({ kind: "merge", tone: "warn" })).toBe(true); // a merge conflict
    expect(reachesTown({ kind: "rig", tone: "bad" })).toBe(true); // the clone failed
    expect(reachesTown({ kind: "merge", tone: "info" })).toBe(false);
    expect(reachesTown({ kind: "bead", tone: "good" })).toBe(false);
    expect(reachesTown({ kind: "agent", tone: "warn" })).toBe(false);
    expect(reachesTown({ kind: "mail", tone: "info" })).toBe(false);
  });

  it("the town names the rig in the text and in `rig`, once", () => {
    const event = makeEvent("E", 1, "failed", "bead 12345678 failed", { bead: "B" });
    expect(forTown(event, "backend")).toMatchObject({ text: "backend: bead 12345678 failed", rig: "backend", bead: "B", tone: "bad" });
    expect(forTown(makeEvent("E", 1, "dead", "backend/polecats/toast is dead"), "backend").text).toBe("backend/polecats/toast is dead");
    expect(forTown(makeEvent("E", 1, "rig", "clone failed: https://u:secret-token@example.com/r.git", { tone: "bad" }), "backend").text).toBe(
      "backend: clone failed: https://u:***@example.com/r.git",
    );
  });
});

describe("the town's share of a rig's failures", () => {
  const ids = () => {
    let n = 0;
    return () => `held-${++n}`;
  };
  const rule = { perWindow: 5, windowMs: 60_000 };

  it("lets the first few through one by one, then merges the rest into one line due at the window's end", () => {
    const newId = ids();
    let window: NoticeWindow | null = null;
    const sent: number[] = [];
    let due: number | null = null;
    for (let i = 0; i < 1_000; i++) {
      const decision = admitNotice(window, { kind: i % 3 ? "escalation" : "failed", tone: i % 3 ? "warn" : "bad" }, 1_000 + i, newId, rule);
      window = decision.window;
      if (decision.send) sent.push(i);
      else due = decision.dueAt;
    }
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    expect(due).toBe(1_000 + rule.windowMs);
    const merged = mergedEvent(window!, 2_000, "backend")!;
    expect(merged).toMatchObject({
      id: "held-1",
      kind: "escalation",
      tone: "bad",
      text: "backend: 995 more failures (663 escalation, 332 failed); see the rig's feed",
    });
  });

  it("a new window lets a few through again, with a merged line of its own", () => {
    const newId = ids();
    let window: NoticeWindow | null = null;
    for (let i = 0; i < 7; i++) window = admitNotice(window, { kind: "failed" }, 0, newId, rule).window;
    expect(window!.heldId).toBe("held-1");
    const next = admitNotice(window, { kind: "failed" }, rule.windowMs, newId, rule);
    expect(next.send).toBe(true);
    expect(next.window).toMatchObject({ start: rule.windowMs, sent: 1, held: {}, heldId: null });
    expect(mergedEvent(next.window, 0, "backend")).toBeNull();
  });

  it("bounds what one rig adds to the town's feed: at most perWindow + 1 lines a window", () => {
    const newId = ids();
    let window: NoticeWindow | null = null;
    const lines = new Set<string>();
    for (let t = 0; t < 10 * TOWN_NOTICES.windowMs; t += 100) {
      const decision = admitNotice(window, { kind: "escalation" }, t, newId, TOWN_NOTICES);
      window = decision.window;
      lines.add(decision.send ? `sent-${t}` : `merged-${window.heldId}`);
    }
    expect(lines.size).toBeLessThanOrEqual(10 * (TOWN_NOTICES.perWindow + 1));
  });
});

describe("the work machine's failure lines (party/work/)", () => {
  const CONFIG: WorkConfig = {
    rigName: "r",
    rigId: "01RIG0000000000000000000000",
    ready: true,
    maxPolecats: 1,
    heartbeatTimeoutMs: 1_000,
    idleMs: 60_000,
    ceilingMs: 180_000,
    mergeTimeoutMs: 60_000,
    mergeTries: 3,
    leaseTtlMs: 600_000,
    stopTimeoutMs: 60_000,
    maxRuns: 3,
  };
  const BEAD = "01BEAD00000000000000000000";

  function world() {
    const beads = new Map<string, Bead>([
      [BEAD, { id: BEAD, title: "t", body: "", status: "open", priority: "medium", requires: [], createdAt: 0, updatedAt: 0 }],
    ]);
    const agents = new Map<string, Agent>();
    const liveness = new Map<string, Liveness>();
    let lease: LeaseState = emptyLease();
    let now = 1_000;
    const feed = (event: WorkEvent, at = now) => {
      now = at;
      const t = step({ beads, agents, lease, liveness, config: CONFIG }, event, now);
      for (const b of t.beads) beads.set(b.id, b);
      for (const a of t.agents) agents.set(a.identity, a);
      lease = t.lease;
      for (const [id, l] of t.liveness) l ? liveness.set(id, l) : liveness.delete(id);
      return t.effects.filter((e): e is Extract<Effect, { kind: "feed" }> => e.kind === "feed");
    };
    return { feed, agents, beads, now: () => now };
  }

  it("a silent agent is `stalled`, then `dead`, each line naming the agent and its bead", () => {
    const w = world();
    w.feed({ type: "container_connected", connection: "c1", container: "c", session: "s" });
    w.feed({ type: "dispatch" });
    const identity = [...w.agents.keys()][0]!;
    w.feed({ type: "agent_started", identity, beadId: BEAD, run: `${BEAD}.1`, epoch: 1 });
    const start = w.now();
    // The lease is renewed, but nobody vouches for the run: silence.
    const stalled = w.feed({ type: "tick" }, start + 600);
    expect(stalled).toEqual([{ kind: "feed", feed: "stalled", text: `${identity} is stalled (no heartbeat for 1 s)`, agent: identity, bead: BEAD }]);
    const dead = w.feed({ type: "tick" }, start + 1_100);
    expect(dead[0]).toMatchObject({ feed: "dead", agent: identity, bead: BEAD });
    expect(makeEvent("E", 0, dead[0]!.feed, dead[0]!.text).tone).toBe("bad");
    expect(reachesTown({ kind: dead[0]!.feed, tone: toneOf(dead[0]!.feed) })).toBe(true);
  });

  it("a merge conflict is a warning about the bead; a merge is a landing (good)", () => {
    const w = world();
    w.feed({ type: "container_connected", connection: "c1", container: "c", session: "s" });
    w.feed({ type: "dispatch" });
    const identity = [...w.agents.keys()][0]!;
    w.feed({ type: "agent_started", identity, beadId: BEAD, run: `${BEAD}.1`, epoch: 1 });
    w.feed({ type: "done", identity, branch: w.agents.get(identity)!.branch!, run: `${BEAD}.1` });
    const conflict = w.feed({ type: "merge_result", beadId: BEAD, epoch: 1, ok: false, failure: "conflict", conflictFiles: ["a.txt"] });
    expect(conflict.find((e) => e.feed === "merge")).toMatchObject({ tone: "warn", bead: BEAD, agent: identity });
    // Reopened, and dispatched again in the same step: the second run lands.
    const again = w.agents.get(identity)!.run!;
    expect(again.id).toBe(`${BEAD}.2`);
    w.feed({ type: "agent_started", identity, beadId: BEAD, run: again.id, epoch: 1 });
    w.feed({ type: "done", identity, branch: w.agents.get(identity)!.branch!, run: again.id });
    const merged = w.feed({ type: "merge_result", beadId: BEAD, epoch: 1, ok: true, mergeCommit: "a".repeat(40) });
    expect(merged).toEqual([expect.objectContaining({ feed: "bead", tone: "good", bead: BEAD })]);
    expect(w.beads.get(BEAD)!.status).toBe("closed");
  });
});
