/** The attention lane's list (party/attention.ts): what needs the operator in a rig, worst first, bounded. */
import { describe, expect, it } from "vitest";
import { AGENT_PLACES, attentionItems, convoyAttention, type AttentionInput } from "../../party/attention.ts";
import { LIMITS, type Agent, type AgentStatus, type Bead, type Convoy, type Escalation, type Mail, type Severity } from "../../party/protocol.ts";

const RIG = { id: "01RIG0000000000000000000000", name: "backend" };
const failedBead = (id: string, at: number, failure = "exit 4; gave up after 3 runs", title = `bead ${id}`): Bead => ({
  id,
  title,
  body: "",
  status: "failed",
  priority: "medium",
  requires: [],
  createdAt: 0,
  updatedAt: at,
  failure,
});
const escalation = (id: string, severity: Severity, at: number, status: Escalation["status"] = "open"): Escalation => ({
  id,
  from: "backend/polecats/toast",
  title: `escalation ${id}`,
  body: "",
  severity,
  createdAt: at,
  status,
});
const polecat = (name: string, status: AgentStatus, since: number, extra: Partial<Agent> = {}): Agent => ({
  identity: `backend/polecats/${name}`,
  role: "polecat",
  name,
  status,
  statusSince: since,
  ...extra,
});
const mail = (id: string, to: string, at: number, state: Mail["state"] = "delivered"): Mail => ({
  id,
  from: "backend/witness",
  to,
  subject: "s",
  body: "",
  sentAt: at - 1,
  deliveredAt: at,
  state,
});
const input = (fields: Partial<AttentionInput>): AttentionInput => ({ rig: RIG, beads: [], agents: [], mail: [], escalations: [], ...fields });

describe("attentionItems", () => {
  it("of a healthy rig is empty", () => {
    const beads: Bead[] = [{ ...failedBead("b1", 5), status: "closed" }];
    const agents = [polecat("toast", "working", 1), polecat("maple", "idle", 1)];
    expect(attentionItems(input({ beads, agents, escalations: [escalation("e1", "high", 1, "resolved")] }))).toEqual([]);
  });

  it("ranks worst first: critical, the rig in error, dead, hung, stalled agents, high, failed beads, medium, waiting mail, low", () => {
    const items = attentionItems(
      input({
        rig: { ...RIG, status: "error", error: "clone failed: fatal: repository not found", errorAt: 10 },
        beads: [failedBead("b1", 10)],
        escalations: [escalation("low", "low", 99), escalation("medium", "medium", 99), escalation("high", "high", 1), escalation("critical", "critical", 1)],
        agents: [
          polecat("stalled", "stalled", 99),
          polecat("hung", "hung", 99),
          polecat("dead", "dead", 1, { lastExit: "no heartbeat for 90 s" }),
          polecat("idle", "idle", 1),
        ],
        mail: [mail("m1", "backend/polecats/idle", 99)],
      }),
    );
    expect(items.map((i) => `${i.kind}:${i.id}`)).toEqual([
      "escalation:critical",
      `rig_error:${RIG.id}`,
      "agent:backend/polecats/dead",
      "agent:backend/polecats/hung",
      "agent:backend/polecats/stalled",
      "escalation:high",
      "failed_bead:b1",
      "escalation:medium",
      "waiting_mail:backend/polecats/idle",
      "escalation:low",
    ]);
    expect(items[1]).toEqual({ kind: "rig_error", id: RIG.id, title: "backend", detail: "clone failed: fatal: repository not found", at: 10 });
    expect(items[5]).toEqual({ kind: "escalation", id: "high", title: "escalation high", detail: "high from backend/polecats/toast", severity: "high", at: 1 });
    expect(items[6]).toEqual({ kind: "failed_bead", id: "b1", title: "bead b1", detail: "exit 4; gave up after 3 runs", at: 10, beadId: "b1" });
    expect(items[2]).toMatchObject({ title: "backend/polecats/dead", detail: "dead: its run went silent (no heartbeat for 90 s)", at: 1 });
    expect(items[4]).toMatchObject({ detail: "stalled: its heartbeats are late", at: 99 });
  });

  it("within one rank, the newest first; at most 20 of 100 failed beads: the 20 newest", () => {
    const beads = Array.from({ length: 100 }, (_, i) => failedBead(`b${String(i).padStart(3, "0")}`, 1_000 + i));
    const items = attentionItems(input({ beads: beads.reverse() }));
    expect(items).toHaveLength(LIMITS.attentionItems);
    expect(items.map((i) => i.at)).toEqual(Array.from({ length: 20 }, (_, i) => 1_099 - i));
  });

  it("cuts titles to 120 and details to 160 characters, on one line, whatever an agent wrote", () => {
    const beads = [failedBead("b1", 1, `line one\n${"x".repeat(5_000)}`, `a title\twith tabs ${"t".repeat(500)}`)];
    const [item] = attentionItems(input({ beads }));
    expect(item!.title).toHaveLength(LIMITS.attentionTitle);
    expect(item!.title.startsWith("a title with tabs t")).toBe(true);
    expect(item!.title.endsWith("…")).toBe(true);
    expect(item!.detail).toHaveLength(LIMITS.attentionDetail);
    expect(item!.detail).not.toMatch(/\n/);
  });

  it("hides credentials in a URL of a clone error (the town document is read by every viewer of the town)", () => {
    const rig = {
      ...RIG,
      status: "error" as const,
      error: "clone failed: fatal: could not read from https://bot:ghp_abcdefghijklmnop@github.com/acme/api.git",
      errorAt: 1,
    };
    const [item] = attentionItems(input({ rig }));
    expect(item!.detail).toBe("clone failed: fatal: could not read from https://bot:***@github.com/acme/api.git");
  });

  it("mail waits on a polecat that finished (idle or dead, no run); not on a working polecat, the witness, or read mail", () => {
    const agents: Agent[] = [
      polecat("idle", "idle", 1),
      polecat("dead", "dead", 1),
      polecat("busy", "working", 1, { run: { id: "01BEAD00000000000000000000.1", bead: "01BEAD00000000000000000000", state: "running", since: 1 } }),
      { identity: "backend/witness", role: "witness", name: "witness", status: "idle" },
    ];
    const box = [
      mail("m1", "backend/polecats/idle", 50),
      mail("m2", "backend/polecats/idle", 20),
      mail("m3", "backend/polecats/idle", 30, "read"),
      mail("m4", "backend/polecats/dead", 40),
      mail("m5", "backend/polecats/busy", 40),
      mail("m6", "backend/witness", 40),
    ];
    const items = attentionItems(input({ agents, mail: box })).filter((i) => i.kind === "waiting_mail");
    expect(items).toEqual([
      { kind: "waiting_mail", id: "backend/polecats/dead", title: "backend/polecats/dead", detail: "1 unread mail, waiting since its run ended", at: 40 },
      { kind: "waiting_mail", id: "backend/polecats/idle", title: "backend/polecats/idle", detail: "2 unread mails, waiting since its run ended", at: 20 },
    ]);
  });

  it("a troubled agent is dated by when it entered its state; open escalations only", () => {
    const items = attentionItems(
      input({
        agents: [polecat("toast", "stalled", 1_234)],
        escalations: [escalation("e1", "critical", 5, "resolved"), escalation("e2", "low", 6)],
      }),
    );
    expect(items.map((i) => [i.id, i.at])).toEqual([
      ["backend/polecats/toast", 1_234],
      ["e2", 6],
    ]);
  });

  it("a hung agent keeps its place in a rig crowded with 20 failed beads and 20 high escalations (it was cut at 20 before)", () => {
    const beads = Array.from({ length: 20 }, (_, i) => failedBead(`b${String(i).padStart(2, "0")}`, 1_000 + i));
    const escalations = Array.from({ length: 20 }, (_, i) => escalation(`e${i}`, "high", 2_000 + i));
    const run = { id: "01BEAD00000000000000000077.1", bead: "01BEAD00000000000000000077", state: "running" as const, since: 1 };
    const items = attentionItems(input({ beads, escalations, agents: [polecat("toast", "hung", 5, { run })] }));
    expect(items).toHaveLength(LIMITS.attentionItems);
    expect(items[0]).toMatchObject({ kind: "agent", id: "backend/polecats/toast", detail: "hung: no output and no tool call; nudged", beadId: run.bead });
    // Many troubled agents take at most their places; the rest of the list is still the worst of the rest.
    const many = Array.from({ length: 30 }, (_, i) => polecat(`p${i}`, "dead", i));
    const crowded = attentionItems(input({ beads, escalations: [escalation("crit", "critical", 1)], agents: many }));
    expect(crowded).toHaveLength(LIMITS.attentionItems);
    expect(crowded.filter((i) => i.kind === "agent")).toHaveLength(AGENT_PLACES);
    expect(crowded[0]).toMatchObject({ kind: "escalation", id: "crit" });
  });

  it("items carry the bead they are about: a failed bead's id, an escalation's bead; none where there is none", () => {
    const e = { ...escalation("e1", "high", 5), beadId: "01BEAD00000000000000000001" };
    const items = attentionItems(input({ beads: [failedBead("01BEAD00000000000000000002", 4)], escalations: [e, escalation("e2", "high", 3)] }));
    expect(items.map((i) => [i.id, i.beadId])).toEqual([
      ["e1", "01BEAD00000000000000000001"],
      ["e2", undefined],
      ["01BEAD00000000000000000002", "01BEAD00000000000000000002"],
    ]);
  });

  it("a witness's nudge kept as mail by an older room is not mail waiting", () => {
    const nudge = { ...mail("n1", "backend/polecats/idle", 10), from: "backend/witness", subject: "nudge: no progress for 600 s" };
    expect(attentionItems(input({ agents: [polecat("idle", "idle", 1)], mail: [nudge] }))).toEqual([]);
  });

  it("a stuck convoy is an item with its failed beads; open and landed convoys are not", () => {
    const b = (beadId: string, status: "closed" | "failed", rigName = "backend") => ({
      rigId: "r",
      rigName,
      beadId,
      title: beadId,
      status,
      reason: "",
      rev: 1,
    });
    const convoys: Convoy[] = [
      {
        id: "C1",
        title: "Ship password reset",
        status: "stuck",
        createdAt: 1,
        landedAt: 9,
        beads: [b("01BEAD0000000000000000AAAA", "closed"), b("01BEAD0000000000000000BBBB", "failed", "web")],
      },
      { id: "C2", title: "landed", status: "landed", createdAt: 1, landedAt: 9, beads: [b("x", "closed")] },
      { id: "C3", title: "open", status: "open", createdAt: 1, beads: [b("y", "failed"), { ...b("z", "closed"), status: "in_progress" }] },
    ];
    expect(convoyAttention(convoys)).toEqual([
      {
        kind: "stuck_convoy",
        id: "C1",
        title: "Ship password reset",
        detail: "stuck: 1 of 2 beads failed (web 0000BBBB)",
        at: 9,
        beadId: "01BEAD0000000000000000BBBB",
      },
    ]);
  });
});
