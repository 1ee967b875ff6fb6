/**
 * W23: an escalation the machine raised when a bead failed (`cause` bead_failed) is resolved by the
 * machine, with a note saying why, in the same step as that bead's retry, close or move; an agent's
 * escalation about the same bead, and the machine's escalations about other beads, stay as they are.
 */
import { describe, expect, it } from "vitest";
import type { Agent, Bead, Escalation } from "../../party/protocol.ts";
import { allows, emptyLease, step, type WorkConfig, type WorkEvent, type WorkState } from "../../party/work/index.ts";

const CONFIG: WorkConfig = {
  rigName: "r",
  rigId: "01RIG0000000000000000000000",
  ready: true,
  maxPolecats: 1,
  heartbeatTimeoutMs: 60_000,
  idleMs: 60_000,
  ceilingMs: 180_000,
  mergeTimeoutMs: 60_000,
  mergeTries: 3,
  leaseTtlMs: 30_000,
  stopTimeoutMs: 60_000,
  maxRuns: 3,
};
const NOW = 1_000_000;
const BEAD = "01BEAD00000000000000000001";
const OTHER = "01BEAD00000000000000000002";

const bead = (id: string, over: Partial<Bead> = {}): Bead =>
  ({
    id,
    title: `bead ${id.slice(-1)}`,
    body: "",
    priority: "medium",
    status: "failed",
    failure: "exit 4; gave up after 3 runs",
    attempts: 3,
    createdAt: 1,
    updatedAt: 1,
    history: [],
    ...over,
  }) as Bead;
const escalation = (id: string, over: Partial<Escalation>): Escalation => ({
  id,
  from: "r/witness",
  title: "Bead failed: bead 1",
  body: "",
  severity: "high",
  beadId: BEAD,
  createdAt: 2,
  status: "open",
  ...over,
});

function state(escalations: Escalation[], beads: Bead[] = [bead(BEAD), bead(OTHER)]): WorkState {
  return {
    beads: new Map(beads.map((b) => [b.id, b])),
    agents: new Map<string, Agent>(),
    lease: emptyLease(),
    liveness: new Map(),
    config: CONFIG,
    escalations: new Map(escalations.map((e) => [e.id, e])),
  };
}

const ESCALATIONS = [
  escalation("E-sys", { cause: "bead_failed" }),
  escalation("E-ack", { cause: "bead_failed", from: "r/refinery", title: "Merge never reported: bead 1", status: "acknowledged", acknowledgedAt: 3 }),
  // An agent's, about the same bead (even with the same words): the operator's to resolve.
  escalation("E-agent", { from: "r/polecats/toast" }),
  // The machine's, about another bead.
  escalation("E-other", { cause: "bead_failed", beadId: OTHER, title: "Bead failed: bead 2" }),
  escalation("E-done", { cause: "bead_failed", status: "resolved", resolvedAt: 4, note: "fixed" }),
];

describe("W23: the machine resolves its own escalation when the failed bead is retried, closed or moved", () => {
  const cases: [string, WorkEvent, string][] = [
    ["retried", { type: "operator_retry", beadId: BEAD }, "retried by the operator"],
    ["retried through gt_bead_update open", { type: "operator_set_status", beadId: BEAD, status: "open" }, "retried by the operator"],
    ["closed", { type: "operator_set_status", beadId: BEAD, status: "closed" }, "closed by the operator"],
    [
      "moved",
      { type: "operator_move", beadId: BEAD, toRig: "web", toRigId: "01RIG0000000000000000000009", newBeadId: "01BEAD00000000000000000009" },
      "moved to rig web",
    ],
  ];
  for (const [what, event, why] of cases) {
    it(`${what}: its open and acknowledged failure escalations resolved with a note, in the same step; nothing else touched`, () => {
      const t = step(state(ESCALATIONS), event, NOW);
      expect(t.beads.find((b) => b.id === BEAD)!.status).not.toBe("failed");
      expect(t.escalations.map((e) => [e.id, e.status, e.note, e.resolvedAt])).toEqual([
        ["E-sys", "resolved", `resolved by the system: bead ${why}`, NOW],
        ["E-ack", "resolved", `resolved by the system: bead ${why}`, NOW],
      ]);
      expect(t.escalations.find((e) => e.id === "E-ack")!.acknowledgedAt).toBe(3);
      const lines = t.effects.flatMap((e) => (e.kind === "feed" && e.feed === "escalation_resolved" ? [e.text] : []));
      expect(lines).toEqual([
        `escalation "Bead failed: bead 1" resolved by the system: bead ${why}`,
        `escalation "Merge never reported: bead 1" resolved by the system: bead ${why}`,
      ]);
      // Each change is a row of the table (W23).
      for (const from of ["open", "acknowledged"]) expect(allows("escalation", from, event.type, "resolved")).toBe(true);
    });
  }

  it("a bead failed by the operator, or a failure refused (CONFLICT), resolves nothing", () => {
    const open = state(ESCALATIONS, [bead(BEAD, { status: "open", failure: undefined }), bead(OTHER)]);
    expect(step(open, { type: "operator_set_status", beadId: BEAD, status: "failed" }, NOW).escalations).toEqual([]);
    expect(() => step(open, { type: "operator_retry", beadId: BEAD }, NOW)).toThrow(/only a failed bead is retried/);
  });

  it("the machine marks the escalation it raises when a bead fails at its last attempt (cause bead_failed); a merge conflict's is not marked", () => {
    const identity = "r/polecats/toast";
    const run = `${BEAD}.3`;
    const agent = { identity, role: "polecat", name: "toast", status: "working", run: { id: run, bead: BEAD, state: "running", since: 1 } } as Agent;
    const s = state([], [bead(BEAD, { status: "in_progress", attempts: 2, assignee: identity, failure: undefined })]);
    const held = { ...emptyLease(), epoch: 1, holder: { container: "c", session: "s", connection: "k", epoch: 1, renewBy: NOW + 30_000, since: 1 } };
    const t = step(
      { ...s, agents: new Map([[identity, agent]]), lease: held, liveness: new Map([[identity, { heartbeatAt: NOW, progressAt: NOW }]]) },
      { type: "agent_exited", identity, beadId: BEAD, run, exit: "exit 4", epoch: 1 },
      NOW,
    );
    expect(t.beads.find((b) => b.id === BEAD)!.status).toBe("failed");
    const raised = t.effects.flatMap((e) => (e.kind === "escalate" ? [e.escalation] : []));
    expect(raised).toMatchObject([{ from: "r/witness", beadId: BEAD, cause: "bead_failed", title: "Bead failed: bead 1" }]);
  });
});
