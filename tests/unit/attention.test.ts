/** The attention lane's list (party/attention.ts): what needs the operator in a rig, worst first, bounded. */
import { describe, expect, it } from "vitest";
import { attentionItems, type AttentionInput } from "../../party/attention.ts";
import { LIMITS, type Agent, type AgentStatus, type Bead, type Escalation, type Mail, type Severity } from "../../party/protocol.ts";

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

  it("ranks worst first: critical, the rig in error, high, failed beads, dead, hung, stalled agents, medium, waiting mail, low", () => {
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
      "escalation:high",
      "failed_bead:b1",
      "agent:backend/polecats/dead",
      "agent:backend/polecats/hung",
      "agent:backend/polecats/stalled",
      "escalation:medium",
      "waiting_mail:backend/polecats/idle",
      "escalation:low",
    ]);
    expect(items[1]).toEqual({ kind: "rig_error", id: RIG.id, title: "backend", detail: "clone failed: fatal: repository not found", at: 10 });
    expect(items[2]).toEqual({ kind: "escalation", id: "high", title: "escalation high", detail: "high from backend/polecats/toast", severity: "high", at: 1 });
    expect(items[3]).toEqual({ kind: "failed_bead", id: "b1", title: "bead b1", detail: "exit 4; gave up after 3 runs", at: 10 });
    expect(items[4]).toMatchObject({ title: "backend/polecats/dead", detail: "dead: its run went silent (no heartbeat for 90 s)", at: 1 });
    expect(items[6]).toMatchObject({ detail: "stalled: its heartbeats are late", at: 99 });
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
});
