/**
 * W22 (party/work/budget.ts): daily budgets hold dispatch. A small rig world drives the work machine
 * as the rig room does (a run's usage effect counted into the stored spend, a run's record saying it
 * was counted), one rule at a time and under random interleavings (fast-check): no run starts while a
 * budget is reached, the hold is there exactly then, a running run is never stopped for it, and each
 * run's usage counts once however often its exit is reported.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Agent, Bead, Budget, Usage } from "../../party/protocol.ts";
import {
  addAgentUsage,
  addUsage,
  agentToday,
  allows,
  budgetWake,
  emptyLease,
  emptyTotals,
  spendOf,
  step,
  utcDay,
  type LeaseState,
  type Liveness,
  type OwedCommand,
  type RigState,
  type Spent,
  type Transition,
  type WorkConfig,
  type WorkEvent,
} from "../../party/work/index.ts";

const CONFIG: WorkConfig = {
  rigName: "r",
  rigId: "01RIG0000000000000000000000",
  ready: true,
  maxPolecats: 2,
  heartbeatTimeoutMs: 60_000,
  ceilingMs: 3_600_000,
  idleMs: 60_000,
  mergeTimeoutMs: 60_000,
  mergeTries: 3,
  leaseTtlMs: 60_000,
  stopTimeoutMs: 60_000,
  maxRuns: 3,
};
const DAY = 86_400_000;

function usage(tokens: number, costUsd: number | null): Usage {
  return { model: "m", turns: 1, inputTokens: tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd };
}

/** The rig room's records as the store keeps them, fed through `step`; usage counted as the store counts it. */
class Rig {
  now = 10 * DAY + 1_000;
  beads = new Map<string, Bead>();
  agents = new Map<string, Agent>();
  lease: LeaseState = emptyLease();
  liveness = new Map<string, Liveness>();
  rig: RigState = { status: "ready", maxPolecats: 2 };
  spent: Spent = { day: utcDay(this.now), totals: emptyTotals() };
  /** Runs whose usage the store counted (`runusage:<run>`). */
  readonly counted = new Set<string>();
  /** Starts the container was sent and has not acknowledged. */
  starts: OwedCommand[] = [];
  epoch = 0;
  private seq = 0;
  lastStep: Transition | null = null;

  feed(event: WorkEvent): Transition {
    const t = step(
      { beads: this.beads, agents: this.agents, lease: this.lease, liveness: this.liveness, config: CONFIG, rig: this.rig, spent: this.spentNow() },
      event,
      this.now,
    );
    for (const b of t.beads) this.beads.set(b.id, b);
    for (const a of t.agents) this.agents.set(a.identity, a);
    this.lease = t.lease;
    for (const [id, l] of t.liveness) l ? this.liveness.set(id, l) : this.liveness.delete(id);
    if (t.rig) this.rig = t.rig;
    for (const e of t.effects) {
      if (e.kind === "command" && e.command.kind === "start_agent") this.starts.push(e.command);
      if (e.kind === "lease" && e.frame.state === "held") this.epoch = e.frame.epoch;
      if (e.kind === "usage") {
        this.spent = { day: utcDay(this.now), totals: addUsage(this.spentNow().totals, e.usage) };
        this.counted.add(e.run);
      }
    }
    this.lastStep = t;
    if (t.then === "dispatch") return this.feed({ type: "dispatch" });
    return t;
  }

  spentNow(): Spent {
    return this.spent.day === utcDay(this.now) ? this.spent : { day: utcDay(this.now), totals: emptyTotals() };
  }

  connect(): void {
    this.feed({ type: "room_started" });
    this.feed({ type: "container_connected", connection: "c1", container: "ca", session: "s1" });
  }

  create(): string {
    const id = `01BEAD${String(++this.seq).padStart(20, "0")}`;
    this.feed({ type: "bead_create", bead: { id, title: `bead ${this.seq}`, body: "", priority: "medium", requires: [] } });
    return id;
  }

  /** The container starts every start it was sent. */
  startAll(): void {
    for (const s of this.starts.splice(0))
      if (s.kind === "start_agent") this.feed({ type: "agent_started", identity: s.identity, beadId: s.beadId, run: s.run, epoch: this.epoch });
  }

  running(): Agent[] {
    return [...this.agents.values()].filter((a) => a.run?.state === "running");
  }

  /** A running run hands its bead in, its merge lands, and its process exits reporting `used` (`again`: the report sent twice). */
  finish(agent: Agent, used: Usage, again = false): void {
    const run = agent.run!;
    this.feed({ type: "done", identity: agent.identity, run: run.id, branch: agent.branch! });
    this.feed({ type: "merge_result", beadId: run.bead, epoch: this.epoch, ok: true, mergeCommit: "abc" });
    this.exit(agent.identity, run.bead, run.id, used);
    if (again) this.exit(agent.identity, run.bead, run.id, used);
  }

  exit(identity: string, beadId: string, run: string, used: Usage, exit = "exit 0"): Transition {
    return this.feed({ type: "agent_exited", identity, beadId, run, epoch: this.epoch, exit, usage: used, counted: this.counted.has(run) });
  }

  open(): Bead[] {
    return [...this.beads.values()].filter((b) => b.status === "open");
  }

  feedLines(): string[] {
    return (this.lastStep?.effects ?? []).flatMap((e) => (e.kind === "feed" ? [e.text] : []));
  }
}

describe("W22: a daily budget reached holds dispatch (party/work/budget.ts)", () => {
  it("W22: a rig's budget reached by a run's usage holds the next bead open, with the figures; the running run goes on; raising the budget releases it in the same step", () => {
    const rig = new Rig();
    rig.connect();
    rig.feed({ type: "budget_set", budget: { unit: "usd", daily: 1 } });
    expect(rig.rig.budget).toEqual({ unit: "usd", daily: 1 });
    const [a, b] = [rig.create(), rig.create()];
    rig.startAll();
    expect(rig.running()).toHaveLength(2);
    const [first, second] = rig.running();
    // The first run ends having spent $1.20: the budget is reached.
    rig.finish(first!, usage(1_000, 1.2));
    expect(rig.spent.totals).toMatchObject({ runs: 1, costUsd: 1.2 });
    expect(rig.rig.hold).toMatchObject({ by: "rig", since: rig.now });
    expect(rig.rig.hold!.reason).toBe("the rig's daily budget is reached ($1.20 of $1.00 today, UTC)");
    expect(rig.feedLines()).toContain("no new run starts: the rig's daily budget is reached ($1.20 of $1.00 today, UTC)");
    // Its bead's sum says what it used; the other run is not stopped.
    expect(rig.beads.get(first!.run!.bead)!.usage).toMatchObject({ runs: 1, costUsd: 1.2, inputTokens: 1_000 });
    expect(rig.agents.get(second!.identity)!.run?.state).toBe("running");
    // A new bead waits open; the free polecat gets nothing.
    const c = rig.create();
    expect(rig.beads.get(c)!.status).toBe("open");
    expect(rig.starts).toEqual([]);
    // The running run ends: its cost counts (the day's spend grows), still held.
    rig.finish(rig.agents.get(second!.identity)!, usage(500, 0.3));
    expect(rig.spent.totals).toMatchObject({ runs: 2, costUsd: 1.5 });
    expect(rig.beads.get(c)!.status).toBe("open");
    expect(rig.rig.hold).toBeDefined();
    // Raised past the spend: released, and the waiting bead dispatched in the same step.
    rig.feed({ type: "budget_set", budget: { unit: "usd", daily: 5 } });
    expect(rig.rig.hold).toBeUndefined();
    expect(rig.beads.get(c)!.status).toBe("in_progress");
    expect(rig.lastStep!.effects.some((e) => e.kind === "feed" && e.text === "runs start again: the rig's budget is $5.00 a day")).toBe(true);
    expect([a, b].map((id) => rig.beads.get(id)!.status)).toEqual(["closed", "closed"]);
  });

  it("W22: a token budget counts input, output and cache tokens; clearing it releases the hold", () => {
    const rig = new Rig();
    rig.connect();
    rig.feed({ type: "budget_set", budget: { unit: "tokens", daily: 100 } });
    rig.create();
    rig.startAll();
    const agent = rig.running()[0]!;
    rig.finish(agent, { model: null, turns: 2, inputTokens: 40, outputTokens: 30, cacheReadTokens: 20, cacheWriteTokens: 10, costUsd: null });
    expect(rig.spent.totals).toMatchObject({ runs: 1, unpriced: 1, costUsd: 0 });
    expect(rig.rig.hold?.reason).toBe("the rig's daily budget is reached (100 of 100 tokens today, UTC)");
    const waiting = rig.create();
    expect(rig.beads.get(waiting)!.status).toBe("open");
    rig.feed({ type: "budget_set", budget: null });
    expect(rig.rig.budget).toBeUndefined();
    expect(rig.rig.hold).toBeUndefined();
    expect(rig.beads.get(waiting)!.status).toBe("in_progress");
  });

  it("W22: a budget set below today's spend holds at once; a new UTC day releases it (the rig wakes for it)", () => {
    const rig = new Rig();
    rig.connect();
    rig.create();
    rig.startAll();
    rig.finish(rig.running()[0]!, usage(10, 2));
    rig.feed({ type: "budget_set", budget: { unit: "usd", daily: 1 } });
    expect(rig.rig.hold?.by).toBe("rig");
    const waiting = rig.create();
    expect(rig.beads.get(waiting)!.status).toBe("open");
    const wake = budgetWake({ rig: rig.rig }, rig.now);
    expect(wake).toBe(11 * DAY);
    rig.now = wake!;
    rig.feed({ type: "tick" });
    expect(rig.rig.hold).toBeUndefined();
    expect(rig.beads.get(waiting)!.status).toBe("in_progress");
    expect(rig.feedLines()).toContain("runs start again: a new day began (UTC)");
    expect(budgetWake({ rig: rig.rig }, rig.now)).toBeNull();
  });

  it("W22: the town's budget reached holds every rig it tells, until it tells it is cleared; a notice of an earlier day or an older one changes nothing", () => {
    const rig = new Rig();
    rig.connect();
    const reason = "the town's daily budget is reached ($9.00 of $8.00 today, UTC)";
    rig.feed({ type: "town_budget", reached: true, day: utcDay(rig.now), at: 5, reason });
    expect(rig.rig.hold).toEqual({ by: "town", since: rig.now, reason });
    const waiting = rig.create();
    expect(rig.beads.get(waiting)!.status).toBe("open");
    // An older notice (a retry overtaken) is ignored.
    rig.feed({ type: "town_budget", reached: false, day: utcDay(rig.now), at: 4, reason: "old" });
    expect(rig.rig.hold?.by).toBe("town");
    rig.feed({ type: "town_budget", reached: false, day: utcDay(rig.now), at: 6, reason: "the town's daily budget is no longer reached" });
    expect(rig.rig.hold).toBeUndefined();
    expect(rig.beads.get(waiting)!.status).toBe("in_progress");
    // A notice of yesterday holds nothing today.
    const other = new Rig();
    other.connect();
    other.feed({ type: "town_budget", reached: true, day: utcDay(other.now - DAY), at: 7, reason });
    expect(other.rig.hold).toBeUndefined();
  });

  it("W22: a run's usage counts once however often its exit is reported, also for a run that ended earlier (W11)", () => {
    const rig = new Rig();
    rig.connect();
    const id = rig.create();
    rig.startAll();
    const agent = rig.running()[0]!;
    rig.finish(agent, usage(100, 0.5), true);
    expect(rig.beads.get(id)!.usage).toMatchObject({ runs: 1, costUsd: 0.5 });
    expect(rig.spent.totals).toMatchObject({ runs: 1, costUsd: 0.5 });
    // A report with nothing counted before (another run's) counts into its own bead.
    rig.exit(agent.identity, id, `${id}.7`, usage(1, 0.25));
    expect(rig.beads.get(id)!.usage).toMatchObject({ runs: 2, costUsd: 0.75 });
  });

  it("W22: an agent's usage today sums its runs once each, in the step that counts them; a new UTC day starts again from that day's first run", () => {
    const rig = new Rig();
    rig.connect();
    const id = rig.create();
    rig.startAll();
    const agent = rig.running()[0]!;
    expect(agent.usage).toBeUndefined();
    rig.finish(agent, usage(100, 0.5), true);
    expect(rig.agents.get(agent.identity)!.usage).toEqual({
      day: utcDay(rig.now),
      today: { runs: 1, inputTokens: 100, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.5, unpriced: 0 },
    });
    // Another run of the same agent, its cost unknown: counted, and said unpriced (not $0).
    const t = rig.exit(agent.identity, id, `${id}.7`, usage(10, null));
    expect(t.agents.find((a) => a.identity === agent.identity)?.usage?.today).toMatchObject({ runs: 2, inputTokens: 110, costUsd: 0.5, unpriced: 1 });
    // The same report again adds nothing (the store counted that run).
    rig.exit(agent.identity, id, `${id}.7`, usage(10, null));
    expect(rig.agents.get(agent.identity)!.usage!.today.runs).toBe(2);
    expect(agentToday(rig.agents.get(agent.identity)!.usage, rig.now).runs).toBe(2);
    // The next day: a reader sees nothing yet today; the first run counted starts the sum again.
    rig.now += DAY;
    expect(agentToday(rig.agents.get(agent.identity)!.usage, rig.now)).toEqual(emptyTotals());
    rig.exit(agent.identity, id, `${id}.8`, usage(7, 0.25));
    expect(rig.agents.get(agent.identity)!.usage).toEqual({
      day: utcDay(rig.now),
      today: { runs: 1, inputTokens: 7, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.25, unpriced: 0 },
    });
    expect(addAgentUsage(undefined, usage(3, null), rig.now)).toEqual({
      day: utcDay(rig.now),
      today: { runs: 1, inputTokens: 3, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpriced: 1 },
    });
  });

  it("W22: the hold rows of table.ts are the only way dispatch becomes held or free", () => {
    expect(allows("hold", "none", "dispatch", "held")).toBe(true);
    expect(allows("hold", "held", "dispatch", "none")).toBe(true);
    expect(allows("hold", "none", "budget_set", "held")).toBe(false);
    expect(allows("hold", "held", "agent_exited", "none")).toBe(false);
  });
});

type Action =
  | { kind: "create" }
  | { kind: "start" }
  | { kind: "finish"; pick: number; tokens: number; cents: number; again: boolean }
  | { kind: "fail"; pick: number; cents: number }
  | { kind: "budget"; budget: Budget | null }
  | { kind: "town"; reached: boolean }
  | { kind: "time"; ms: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "create" }),
  fc.constant<Action>({ kind: "start" }),
  fc.record({ kind: fc.constant("finish" as const), pick: fc.nat(3), tokens: fc.nat(400), cents: fc.nat(150), again: fc.boolean() }),
  fc.record({ kind: fc.constant("fail" as const), pick: fc.nat(3), cents: fc.nat(100) }),
  fc.record({
    kind: fc.constant("budget" as const),
    budget: fc.oneof(
      fc.constant(null),
      fc.record({ unit: fc.constant("usd" as const), daily: fc.integer({ min: 1, max: 400 }).map((c) => c / 100) }),
      fc.record({ unit: fc.constant("tokens" as const), daily: fc.integer({ min: 1, max: 2_000 }) }),
    ),
  }),
  fc.record({ kind: fc.constant("town" as const), reached: fc.boolean() }),
  fc.record({ kind: fc.constant("time" as const), ms: fc.integer({ min: 1_000, max: DAY / 2 }) }),
);

describe("W22 under random interleavings", () => {
  it("W22: no run starts while a budget is reached, the hold is set exactly then, running runs are never stopped for it, and each run's usage counts once", () => {
    let townAt = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 10, maxLength: 80 }), (actions) => {
        const rig = new Rig();
        rig.connect();
        const reported = new Map<string, Usage>();
        for (const action of actions) {
          const before = new Map([...rig.agents].map(([id, a]) => [id, a.run?.id]));
          let t: Transition | null = null;
          if (action.kind === "create" && rig.open().length < 4) t = (rig.create(), rig.lastStep);
          else if (action.kind === "start") rig.startAll();
          else if (action.kind === "finish" || action.kind === "fail") {
            const agent = rig.running()[action.pick % Math.max(1, rig.running().length)];
            if (!agent) continue;
            const used = usage(action.kind === "finish" ? action.tokens : 10, action.cents / 100);
            reported.set(agent.run!.id, used);
            if (action.kind === "finish") rig.finish(agent, used, action.again);
            else rig.exit(agent.identity, agent.run!.bead, agent.run!.id, used, "exit 1");
            t = rig.lastStep;
          } else if (action.kind === "budget") t = rig.feed({ type: "budget_set", budget: action.budget });
          else if (action.kind === "town")
            t = rig.feed({ type: "town_budget", reached: action.reached, day: utcDay(rig.now), at: ++townAt, reason: "the town's daily budget is reached" });
          else if (action.kind === "time") {
            rig.now += action.ms;
            t = rig.feed({ type: "tick" });
          }
          // The hold is there exactly while a budget is reached (as of the step's end).
          const spent = rig.spentNow().totals;
          const rigReached = !!rig.rig.budget && spendOf(rig.rig.budget, spent) >= rig.rig.budget.daily;
          const town = rig.rig.townBudget;
          const townReached = !!town?.reached && town.day === utcDay(rig.now);
          expect(!!rig.rig.hold).toBe(rigReached || townReached);
          if (rig.rig.hold) {
            // No new run starts: no start owed by this step, no open bead taken.
            expect(t?.effects.filter((e) => e.kind === "command" && e.command.kind === "start_agent") ?? []).toEqual([]);
            // A run that was running goes on (budgets never stop one).
            for (const [id, run] of before) if (run && rig.agents.get(id)!.run?.state === "stopping") expect(rig.agents.get(id)!.run!.id).not.toBe(run);
          }
        }
        // Each run counted once: the day's runs are at most those reported, the beads' sums exactly those.
        const beadRuns = [...rig.beads.values()].reduce((n, b) => n + (b.usage?.runs ?? 0), 0);
        expect(beadRuns).toBe(reported.size);
        expect(rig.counted.size).toBe(reported.size);
      }),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? 20261208) },
    );
  }, 60_000);
});
