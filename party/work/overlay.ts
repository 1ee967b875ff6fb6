/**
 * One step's view of the rig: reads see the step's own writes, writes are kept aside (nothing of
 * the input is mutated), and every change of a bead's status, a run's state, the lease, an
 * escalation or the clone is checked against table.ts on the way in. `result` hands the writes and
 * effects back, with the effects that follow from the writes themselves (convoy notices, closings,
 * runs that ended).
 */
import { LIMITS, type Agent, type Bead, type Escalation, type UsageTotals } from "../protocol.ts";
import type { WorkEventType } from "./events.ts";
import { checkRow, type LeaseMode, type RunState } from "./table.ts";
import type { Effect, EscalationSpec, FeedAbout, FeedKind, Holder, LeaseState, Liveness, RigState, StepResult, WorkConfig, WorkState } from "./types.ts";

export class Overlay {
  private readonly beads = new Map<string, Bead>();
  private readonly agents = new Map<string, Agent>();
  private readonly live = new Map<string, Liveness | null>();
  private readonly escalations = new Map<string, Escalation>();
  private rigState: RigState | null = null;
  private leaseState: LeaseState;
  private readonly effects: Effect[] = [];
  /** Effects that come after those the writes imply (result): e.g. a reported exit, after the step's own note of it. */
  private readonly trailing: Effect[] = [];
  /** The event the changes are made on, for the table (the trailing dispatch runs on `dispatch`). */
  on: WorkEventType;
  then: "dispatch" | null = null;
  /** What this step counted of runs' usage (W22): dispatch judges the budgets on the stored spend plus this. */
  counted: UsageTotals | null = null;
  readonly config: WorkConfig;

  constructor(
    readonly state: WorkState,
    readonly now: number,
    on: WorkEventType,
  ) {
    this.leaseState = state.lease;
    this.config = state.config;
    this.on = on;
  }

  // ---------------------------------------------------------------- reads

  bead(id: string): Bead | undefined {
    return this.beads.get(id) ?? this.state.beads.get(id);
  }

  agent(identity: string): Agent | undefined {
    return this.agents.get(identity) ?? this.state.agents.get(identity);
  }

  *allAgents(): Iterable<Agent> {
    for (const a of this.state.agents.values()) yield this.agents.get(a.identity) ?? a;
    for (const a of this.agents.values()) if (!this.state.agents.get(a.identity)) yield a;
  }

  /** Every bead (one created in this step included). */
  *allBeads(): Iterable<Bead> {
    for (const b of this.state.beads.values()) yield this.beads.get(b.id) ?? b;
    for (const b of this.beads.values()) if (!this.state.beads.get(b.id)) yield b;
  }

  /** Every escalation in the document, with this step's changes (new ones are effects until the store stamps them). */
  *allEscalations(): Iterable<Escalation> {
    for (const e of this.state.escalations?.values() ?? []) yield this.escalations.get(e.id) ?? e;
  }

  liveness(identity: string): Liveness | undefined {
    const changed = this.live.get(identity);
    return changed === null ? undefined : (changed ?? this.state.liveness.get(identity));
  }

  escalation(id: string): Escalation | undefined {
    return this.escalations.get(id) ?? this.state.escalations?.get(id);
  }

  get lease(): LeaseState {
    return this.leaseState;
  }

  get holder(): Holder | null {
    return this.leaseState.holder;
  }

  get rig(): RigState | undefined {
    return this.rigState ?? this.state.rig;
  }

  // ---------------------------------------------------------------- writes, each checked against the table

  setBead(bead: Bead): void {
    checkRow("bead", this.bead(bead.id)?.status ?? "none", this.on, bead.status);
    this.beads.set(bead.id, bead);
  }

  setAgent(agent: Agent): void {
    checkRow("run", runState(this.agent(agent.identity)), this.on, runState(agent));
    this.agents.set(agent.identity, agent);
  }

  setLive(identity: string, value: Liveness | null): void {
    this.live.set(identity, value);
  }

  setLease(lease: LeaseState): void {
    checkRow("lease", leaseMode(this.leaseState), this.on, leaseMode(lease));
    this.leaseState = lease;
  }

  /** `before`: the escalation as it was, live or moved to storage by retention. */
  setEscalation(before: Escalation, escalation: Escalation): void {
    checkRow("escalation", before.status, this.on, escalation.status);
    this.escalations.set(escalation.id, escalation);
  }

  setRig(rig: RigState): void {
    const from = this.rig?.status;
    if (from !== undefined && from !== "removing" && rig.status !== "removing") checkRow("clone", from, this.on, rig.status);
    checkRow("hold", this.rig?.hold ? "held" : "none", this.on, rig.hold ? "held" : "none");
    this.rigState = rig;
  }

  // ---------------------------------------------------------------- effects

  effect(effect: Effect): void {
    this.effects.push(effect);
  }

  /** An effect carried out after every other of this step (see `trailing`). */
  last(effect: Effect): void {
    this.trailing.push(effect);
  }

  feed(feed: FeedKind, text: string, about: FeedAbout = {}): void {
    const effect: Effect = { kind: "feed", feed, text };
    if (about.tone) effect.tone = about.tone;
    if (about.bead) effect.bead = about.bead;
    if (about.agent) effect.agent = about.agent;
    if (about.nudge) effect.nudge = about.nudge;
    this.effects.push(effect);
  }

  /** A new escalation (open); the room's own quote git and agents' output, so each is kept within the tool's bound. */
  escalate(spec: EscalationSpec): void {
    checkRow("escalation", "none", this.on, "open");
    const body = spec.body.length > LIMITS.maxEscalationBody ? `${spec.body.slice(0, LIMITS.maxEscalationBody - 1)}…` : spec.body;
    this.effects.push({ kind: "escalate", escalation: { ...spec, body } });
  }

  // ---------------------------------------------------------------- the result

  /** `observed`: the step looked at the clocks (W12), so the room was seen running now. */
  result<R>(reply: R, observed: boolean): StepResult<R> {
    const lease = observed ? { ...this.leaseState, lastSeen: this.now } : this.leaseState;
    const beads = [...this.beads.values()];
    const agents = [...this.agents.values()];
    return {
      beads,
      agents,
      lease,
      liveness: this.live,
      effects: [...this.effects, ...implied(this.state, beads, agents), ...this.trailing],
      reply,
      escalations: [...this.escalations.values()],
      rig: this.rigState,
      then: this.then,
    };
  }
}

/**
 * What the step's writes imply for the world besides the records: a convoy bead's new status or
 * assignee (its convoy hears of it; a moved bead's convoy hears of the move instead), a closing
 * (counted in its hour; a moved bead was not done here), and the end of a run that did not hand its
 * bead in (gt_done: its process is still exiting, and reports how).
 */
function implied(state: WorkState, beads: readonly Bead[], agents: readonly Agent[]): Effect[] {
  const effects: Effect[] = [];
  for (const bead of beads) {
    const before = state.beads.get(bead.id);
    if (bead.status === "closed" && before?.status !== "closed" && !bead.movedTo) effects.push({ kind: "closed", beadId: bead.id });
    // A convoy also hears what its beads used (W22: a run's usage is counted when it ends).
    const changed = bead.status !== before?.status || bead.assignee !== before?.assignee || bead.usage?.runs !== before?.usage?.runs;
    if (bead.convoyId && !bead.movedTo && changed) effects.push({ kind: "convoy", beadId: bead.id });
  }
  for (const agent of agents) {
    const ended = runEnded(state.agents.get(agent.identity), agent, beads);
    if (ended) effects.push({ kind: "run_ended", identity: agent.identity, run: ended.run, exit: ended.exit, create: false });
  }
  return effects;
}

/**
 * The run a step ended, if any: the agent's run is gone or replaced, and not because it handed its
 * bead in (gt_done: its process is still exiting, and reports how it exits).
 */
export function runEnded(before: Agent | undefined, after: Agent, beads: readonly Bead[]): { run: string; exit: string } | null {
  const previous = before?.run;
  if (!previous || after.run?.id === previous.id) return null;
  const bead = beads.find((b) => b.id === previous.bead);
  if (bead?.status === "in_review" && bead.assignee === after.identity) return null;
  return { run: previous.id, exit: after.lastExit ?? "ended" };
}

function runState(agent: Agent | undefined): RunState {
  return agent?.run?.state ?? "none";
}

function leaseMode(lease: LeaseState): LeaseMode {
  return lease.holder === null ? "vacant" : lease.holder.connection === null ? "away" : "held";
}
