import { describe, expect, it } from "vitest";
import type { Agent, AgentStatus, Bead, BeadStatus, Escalation, Mail, MailState } from "../../party/protocol.ts";
import { computeSummary, emptySummary } from "../../party/summary.ts";

const bead = (id: string, status: BeadStatus): Bead => ({ id, title: id, body: "", status, priority: "medium", requires: [], createdAt: 0, updatedAt: 0 });
const agent = (name: string, status: AgentStatus): Agent => ({ identity: `a/polecats/${name}`, role: "polecat", name, status });
const mail = (id: string, state: MailState, to: string, from = "a/witness"): Mail => ({ id, from, to, subject: "s", body: "", sentAt: 0, state });

const base = { rigName: "a", beads: [] as Bead[], agents: [] as Agent[], mail: [] as Mail[], lastActivity: null, diskBytes: null };

describe("computeSummary", () => {
  it("of an empty rig is all zeros", () => {
    expect(computeSummary(base, 7)).toEqual(emptySummary(7));
    expect(emptySummary(7)).toEqual({
      beads: { open: 0, in_progress: 0, in_review: 0, closed: 0, failed: 0 },
      agents: { idle: 0, working: 0, stalled: 0, hung: 0, stopping: 0, dead: 0 },
      queuedMail: 0,
      openEscalations: 0,
      lastActivity: null,
      diskBytes: null,
      updatedAt: 7,
      polecats: { idle: 0, working: 0, stalled: 0, hung: 0, stopping: 0, dead: 0 },
      attention: [],
      closedByHour: Array(24).fill(0),
    });
  });

  it("counts beads per status", () => {
    const beads = [
      bead("1", "open"),
      bead("2", "open"),
      bead("3", "in_progress"),
      bead("4", "closed"),
      bead("5", "failed"),
      bead("6", "closed"),
      bead("7", "closed"),
    ];
    expect(computeSummary({ ...base, beads }, 0).beads).toEqual({ open: 2, in_progress: 1, in_review: 0, closed: 3, failed: 1 });
  });

  it("openEscalations counts escalations waiting for someone: open ones (also those moved out), not acknowledged or resolved ones", () => {
    const escalation = (id: string, status: Escalation["status"]): Escalation => ({
      id,
      from: "a/witness",
      title: id,
      body: "",
      severity: "high",
      createdAt: 0,
      status,
    });
    const escalations = [escalation("1", "open"), escalation("2", "acknowledged"), escalation("3", "resolved"), escalation("4", "open")];
    expect(computeSummary({ ...base, escalations, archivedOpenEscalations: 3 }, 0).openEscalations).toBe(5);
  });

  it("counts agents per status", () => {
    const agents = [agent("toast", "working"), agent("maple", "idle"), agent("birch", "working"), agent("shadow", "dead")];
    expect(computeSummary({ ...base, agents }, 0).agents).toEqual({ idle: 1, working: 2, stalled: 0, hung: 0, stopping: 0, dead: 1 });
  });

  it("queuedMail counts queued mail and delivered-but-unread mail addressed to this rig", () => {
    const box = [
      mail("1", "queued", "b/polecats/maple"), // in this rig's outbox: counted
      mail("2", "queued", "mayor"), // in this rig's outbox: counted
      mail("3", "delivered", "a/polecats/toast"), // unread in this rig: counted
      mail("4", "delivered", "b/polecats/maple"), // sender's copy of mail delivered to rig b: not counted
      mail("5", "delivered", "operator"), // sender's copy of mail delivered to the town: not counted
      mail("6", "delivered", "ab/witness"), // another rig whose name starts with "a": not counted
      mail("7", "read", "a/polecats/toast"), // read: not counted
      mail("8", "failed", "b/witness"), // bounced: not counted
    ];
    expect(computeSummary({ ...base, mail: box }, 0).queuedMail).toBe(3);
  });

  it("counts polecats apart from the witness and the refinery", () => {
    const agents: Agent[] = [
      agent("toast", "working"),
      agent("maple", "idle"),
      { identity: "a/witness", role: "witness", name: "witness", status: "idle" },
      { identity: "a/refinery", role: "refinery", name: "refinery", status: "working" },
    ];
    const summary = computeSummary({ ...base, agents }, 0);
    expect(summary.agents).toMatchObject({ idle: 2, working: 2 });
    expect(summary.polecats).toEqual({ idle: 1, working: 1, stalled: 0, hung: 0, stopping: 0, dead: 0 });
  });

  it("closedByHour comes from the stored counters (the document may have dropped those beads); attention from the records", () => {
    const now = Date.parse("2030-01-01T10:30:00Z");
    const hour = Math.floor(now / 3_600_000);
    const beads = [{ ...bead("9", "failed"), failure: "exit 4", updatedAt: 5 }];
    const summary = computeSummary({ ...base, rigId: "R", beads, closedHours: { [hour]: 7, [hour - 1]: 2 } }, now);
    expect(summary.closedByHour!.slice(22)).toEqual([2, 7]);
    expect(summary.attention).toEqual([{ kind: "failed_bead", id: "9", title: "9", detail: "exit 4", at: 5, beadId: "9" }]);
  });

  it("passes lastActivity, diskBytes and now through", () => {
    const summary = computeSummary({ ...base, lastActivity: 123, diskBytes: 4096 }, 999);
    expect(summary).toMatchObject({ lastActivity: 123, diskBytes: 4096, updatedAt: 999 });
  });

  it("passes the container's boundary through, and claims none before a container said", () => {
    const boundary = { processes: true, network: false, missing: ["network: nftables is not installed"] };
    expect(computeSummary({ ...base, boundary }, 1).boundary).toEqual(boundary);
    expect(computeSummary(base, 1)).not.toHaveProperty("boundary");
  });
});
