/**
 * The work lifecycle (party/work/) under random interleavings, checked after every step (fast-check).
 * A small world drives it: two containers (one may stand by) that connect, drop, restart, freeze,
 * renew or not, acknowledge what they were sent (or an old run's exit), agents that call done (also
 * from runs taken from them), merges that land or fail every way, operators, room pauses and clock
 * jumps. Rule ids (W…) are those of party/work/ and docs/lifecycle.md.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ToolError, type Agent, type Bead } from "../../party/protocol.ts";
import {
  TABLES,
  allows,
  emptyLease,
  nextWake,
  nudgeWaiting,
  owedCommands,
  pauseMs,
  step,
  type LeaseState,
  type Liveness,
  type Machine,
  type OwedCommand,
  type Transition,
  type WorkConfig,
  type WorkEvent,
} from "../../party/work/index.ts";

const CONFIG: WorkConfig = {
  rigName: "r",
  rigId: "01RIG0000000000000000000000",
  ready: true,
  maxPolecats: 2,
  heartbeatTimeoutMs: 1_000,
  idleMs: 2_000,
  ceilingMs: 5_000,
  mergeTimeoutMs: 800,
  mergeTries: 3,
  leaseTtlMs: 600,
  stopTimeoutMs: 1_500,
  maxRuns: 3,
};

let beadSeq = 0;
function beadId(): string {
  beadSeq += 1;
  return `01BEAD${String(beadSeq).padStart(20, "0")}`;
}

type Proc = { identity: string; run: string; bead: string; branch: string; done: boolean; hung?: boolean };
type Container = {
  id: string;
  session: number;
  connection: string | null;
  state: "held" | "standby" | null;
  epoch: number | null;
  /** A frozen container (SIGSTOP) does nothing, renews included, until it thaws. */
  frozen: boolean;
  inbox: (OwedCommand & { epoch: number })[];
  seen: Set<string>;
  procs: Map<string, Proc>;
};

/** The rig room's records and clocks, plus what the outside world knows, fed through `step`. */
class World {
  now = 1_000_000;
  beads = new Map<string, Bead>();
  agents = new Map<string, Agent>();
  lease: LeaseState = emptyLease();
  liveness = new Map<string, Liveness>();
  readonly containers: Container[] = [this.container("ca"), this.container("cb")];
  /** What happened, across all runs of the property: the test checks the interleavings reach each case. */
  static readonly seen = new Map<string, number>();
  /** Every run ever dispatched, so an agent of an old run can still act (stale processes). */
  readonly runs = new Map<string, Proc>();
  /** Merges on the remote per bead; the refinery is idempotent per bead (as container/git-ops.ts is). */
  readonly remote = new Map<string, string>();
  /** When the room last accepted a sign of life for each agent's current run (W7 checks against it). */
  readonly heardAt = new Map<string, number>();
  private connections = 0;
  readonly trace: string[] = [];

  private container(id: string): Container {
    return { id, session: 1, connection: null, state: null, epoch: null, frozen: false, inbox: [], seen: new Set(), procs: new Map() };
  }

  state() {
    return { beads: this.beads, agents: this.agents, lease: this.lease, liveness: this.liveness, config: CONFIG };
  }

  /** Feeds one event; a refusal (ToolError) changes nothing and is returned. */
  feed(event: WorkEvent): Transition | ToolError {
    const beforeBeads = new Map(this.beads);
    const beforeAgents = new Map(this.agents);
    const livenessBefore = new Map(this.liveness);
    const lastSeen = this.lease.lastSeen;
    if (event.type === "room_started" || (lastSeen !== null && this.now - lastSeen > pauseMs(CONFIG)))
      for (const id of this.agents.keys()) this.heardAt.set(id, this.now);
    let t: Transition;
    try {
      t = step(this.state(), event, this.now);
    } catch (error) {
      if (error instanceof ToolError) {
        this.trace.push(`${this.now} ${event.type} refused ${error.code}`);
        return error;
      }
      throw error;
    }
    if (this.trace.length > 200) this.trace.splice(0, 100);
    this.trace.push(
      `${this.now} ${JSON.stringify(event)} → beads ${t.beads.map((b) => `${b.id.slice(-3)}:${b.status}`).join(",")} agents ${t.agents.map((a) => `${a.name}:${a.status}/${a.run?.state ?? "-"}`).join(",")}`,
    );
    for (const b of t.beads) this.beads.set(b.id, b);
    for (const a of t.agents) this.agents.set(a.identity, a);
    this.lease = t.lease;
    for (const [id, l] of t.liveness) l ? this.liveness.set(id, l) : this.liveness.delete(id);
    this.noteHeard(event, t);
    const count = (what: string) => World.seen.set(what, (World.seen.get(what) ?? 0) + 1);
    for (const e of t.effects) if (e.kind === "feed") for (const [what, re] of CASES) if (re.test(e.text)) count(what);
    for (const b of t.beads) if (b.status === "closed" && b.mergeCommit) count("merged");
    checkInvariants(this, event, t, beforeBeads, beforeAgents, livenessBefore);
    this.deliver(t);
    return t;
  }

  private noteHeard(event: WorkEvent, t: Transition): void {
    for (const a of t.agents) if (a.run?.state === "starting" && a.run.since === this.now) this.heardAt.set(a.identity, this.now);
    for (const a of t.agents)
      if (a.run && a.run.state !== "stopping")
        this.runs.set(a.run.id, { identity: a.identity, run: a.run.id, bead: a.run.bead, branch: a.branch ?? "", done: false });
    const current = (identity: string, run?: string) => {
      const agent = this.agents.get(identity);
      return agent?.run && agent.run.state !== "stopping" && (run === undefined || run === agent.run.id);
    };
    if (event.type === "container_renew" && this.lease.holder?.epoch === event.epoch)
      for (const r of event.agents) if (current(r.identity, r.run)) this.heardAt.set(r.identity, this.now);
    if ((event.type === "agent_heartbeat" || event.type === "agent_activity") && current(event.identity)) this.heardAt.set(event.identity, this.now);
    if (event.type === "agent_started" && current(event.identity, event.run)) this.heardAt.set(event.identity, this.now);
    // A holder's reconnect (the same session) restarts its runs' clocks: nothing could arrive while it was away.
    const holder = this.lease.holder;
    if (event.type === "container_connected" && holder?.connection === event.connection && holder.session === event.session) {
      for (const agent of this.agents.values()) if (agent.run && agent.run.state !== "stopping") this.heardAt.set(agent.identity, this.now);
    }
  }

  /** Effects reach the containers at once; a close or a lost lease makes a container kill its agents. */
  private deliver(t: Transition): void {
    for (const effect of t.effects) {
      const target = (connection: string) => this.containers.find((c) => c.connection === connection);
      if (effect.kind === "command") {
        const holder = this.lease.holder?.connection;
        const c = holder ? target(holder) : undefined;
        if (c) c.inbox.push({ ...effect.command, epoch: this.lease.holder!.epoch });
      } else if (effect.kind === "lease") {
        const c = target(effect.connection);
        if (!c) continue;
        c.state = effect.frame.state;
        if (effect.frame.state === "held") {
          if (c.epoch !== effect.frame.epoch) c.procs.clear(); // a new epoch: its earlier runs are void
          c.epoch = effect.frame.epoch;
          for (const command of owedCommands(this.state())) c.inbox.push({ ...command, epoch: c.epoch });
        }
      } else if (effect.kind === "close") {
        const c = target(effect.connection);
        if (c) this.lost(c);
      }
    }
  }

  lost(c: Container): void {
    c.connection = null;
    c.state = null;
    c.epoch = null;
    c.procs.clear();
    c.inbox = [];
    c.seen.clear();
  }

  connect(c: Container): void {
    if (c.connection) return;
    c.connection = `conn-${++this.connections}`;
    this.feed({ type: "container_connected", connection: c.connection, container: c.id, session: `s${c.session}` });
  }

  disconnect(c: Container): void {
    if (!c.connection) return;
    const connection = c.connection;
    c.connection = null;
    c.state = null;
    this.feed({ type: "container_disconnected", connection });
  }

  restart(c: Container): void {
    this.disconnect(c);
    this.lost(c);
    c.session += 1;
    this.connect(c);
  }

  /** The container's answer to LEASE_LOST: it lost the rig; its agents are killed. */
  refused(c: Container, outcome: Transition | ToolError): outcome is ToolError {
    if (outcome instanceof ToolError) {
      if (outcome.code === "LEASE_LOST") this.lost(c);
      return true;
    }
    return false;
  }

  renew(c: Container): void {
    if (!c.connection || !c.state) return;
    // It vouches for every process it runs; a hung one is alive but prints nothing.
    const agents = [...c.procs.values()].filter((p) => !p.done).map((p) => ({ identity: p.identity, run: p.run, quietMs: p.hung ? undefined : 0 }));
    // Starts it took on but has not begun are its to vouch for too (as container/rig-worker.ts does).
    for (const x of this.pending(c, "start_agent")) if (x.kind === "start_agent") agents.push({ identity: x.identity, run: x.run, quietMs: undefined });
    this.refused(
      c,
      this.feed({ type: "container_renew", connection: c.connection, epoch: c.state === "held" ? c.epoch : null, agents: c.state === "held" ? agents : [] }),
    );
  }

  pending(c: Container, kind: OwedCommand["kind"]): (OwedCommand & { epoch: number })[] {
    return c.inbox.filter((x) => x.kind === kind && !c.seen.has(x.id));
  }

  start(c: Container, pick: number, fails: boolean): void {
    const command = pick1(this.pending(c, "start_agent"), pick);
    if (!command || command.kind !== "start_agent") return;
    c.seen.add(command.id);
    if (fails) {
      this.refused(
        c,
        this.feed({ type: "agent_exited", identity: command.identity, beadId: command.beadId, run: command.run, epoch: command.epoch, exit: "no worktree" }),
      );
      return;
    }
    const outcome = this.feed({ type: "agent_started", identity: command.identity, beadId: command.beadId, run: command.run, epoch: command.epoch });
    if (this.refused(c, outcome) || (outcome.reply as { stale: boolean }).stale) return;
    const known = this.runs.get(command.run)!;
    c.procs.set(command.identity, { ...known, done: false });
  }

  exit(c: Container, pick: number, lost: boolean): void {
    const proc = pick1([...c.procs.values()], pick);
    if (!proc) return;
    c.procs.delete(proc.identity);
    this.refused(
      c,
      this.feed({
        type: "agent_exited",
        identity: proc.identity,
        beadId: proc.bead,
        run: proc.run,
        epoch: c.epoch ?? 1,
        exit: lost ? "its supervisor restarted" : "exit 1",
        lost,
      }),
    );
  }

  /** An exit report for some earlier run of an agent (a late or duplicated report). */
  staleExit(c: Container, pick: number): void {
    const proc = pick1([...this.runs.values()], pick);
    if (!proc || !c.epoch) return;
    this.refused(c, this.feed({ type: "agent_exited", identity: proc.identity, beadId: proc.bead, run: proc.run, epoch: c.epoch, exit: "exit 0" }));
  }

  stop(c: Container, pick: number): void {
    const command = pick1(this.pending(c, "stop_agent"), pick);
    if (!command || command.kind !== "stop_agent") return;
    c.seen.add(command.id);
    c.procs.delete(command.identity);
    this.refused(
      c,
      this.feed({ type: "agent_exited", identity: command.identity, beadId: command.beadId, run: command.run, epoch: command.epoch, exit: "signal SIGTERM" }),
    );
  }

  /** An agent process calls gt_done with its run's token: a current one, or one whose run is over. */
  done(pick: number, fromAnyRun: boolean): void {
    const live = this.containers.flatMap((c) => [...c.procs.values()].filter((p) => !p.done));
    const proc = pick1(fromAnyRun ? [...this.runs.values()] : live, pick);
    if (!proc) return;
    const outcome = this.feed({ type: "done", identity: proc.identity, run: proc.run, branch: proc.branch });
    if (!(outcome instanceof ToolError))
      for (const c of this.containers) if (c.procs.get(proc.identity)?.run === proc.run) c.procs.get(proc.identity)!.done = true;
  }

  merge(c: Container, pick: number, outcome: number): void {
    const command = pick1(this.pending(c, "merge"), pick);
    if (!command || command.kind !== "merge") return;
    c.seen.add(command.id);
    const kinds = ["ok", "ok", "ok", "conflict", "push_failed", "nothing_to_merge", "branch_missing", "lost"] as const;
    const kind = kinds[outcome % kinds.length]!;
    if (kind === "lost") return; // taken on, never reported (the room must ask again)
    if (kind === "ok") {
      const commit = this.remote.get(command.beadId) ?? `c${command.beadId.slice(-6)}`.padEnd(40, "0");
      this.remote.set(command.beadId, commit);
      this.refused(c, this.feed({ type: "merge_result", beadId: command.beadId, epoch: command.epoch, ok: true, mergeCommit: commit }));
    } else {
      this.refused(c, this.feed({ type: "merge_result", beadId: command.beadId, epoch: command.epoch, ok: false, failure: kind, error: kind }));
    }
  }

  /** A process that finished (done) exits; the container reports it (the room ignores it: W11). */
  reap(c: Container): void {
    for (const proc of [...c.procs.values()].filter((p) => p.done)) {
      c.procs.delete(proc.identity);
      this.refused(c, this.feed({ type: "agent_exited", identity: proc.identity, beadId: proc.bead, run: proc.run, epoch: c.epoch ?? 1, exit: "exit 0" }));
    }
  }

  create(): void {
    const id = beadId();
    const bead: Bead = {
      id,
      title: `bead ${id.slice(-4)}`,
      body: "",
      status: "open",
      priority: "medium",
      requires: [],
      createdAt: this.now,
      updatedAt: this.now,
    };
    this.beads.set(id, bead);
    this.feed({ type: "dispatch" });
  }

  /** Time passes in the room's beat; containers that are not frozen renew on theirs. */
  advance(ms: number): void {
    for (let left = ms; left > 0; left -= 100) {
      this.tick(Math.min(100, left));
      for (const c of this.containers) if (!c.frozen) this.renew(c);
    }
  }

  tick(ms: number): void {
    this.now += ms;
    this.feed({ type: "tick" });
  }
}

function pick1<T>(items: T[], pick: number): T | undefined {
  return items.length ? items[pick % items.length] : undefined;
}

/** Feed lines that show an interleaving reached a case worth reaching. */
const CASES: [string, RegExp][] = [
  ["lease expired", /missed its lease deadline/],
  ["restarted", /restarted; its earlier runs are void/],
  ["released", /released the rig/],
  ["merge asked again", /asked again/],
  ["merge never reported", /merge not reported after/],
  ["dead", /is dead \(no heartbeat/],
  ["stalled", /is stalled/],
  ["hung", /hung \(/],
  ["nudged", /made no progress for .*; nudged/],
  ["nudge delivered", /got its nudge/],
  ["nudge unanswered", /none since its nudge/],
  ["gave up", /failed after \d+ runs/],
  ["room paused", /did not run for/],
  ["branch lost", /branch was lost/],
  ["exited before done", /exited .* before finishing/],
  ["stopped by the operator", /failed: .* stopped by the operator/],
  ["restarted by the operator", /restarted by the operator/],
  ["moved", /moved to rig/],
  ["moved with its run stopped", /moved to rig .*; .* stopped/],
];

/** Events after which a bead's attempts may grow (W11): only real failures of its current run. */
const MAY_COUNT: ReadonlySet<WorkEvent["type"]> = new Set(["agent_exited", "merge_result", "tick"]);

function checkInvariants(
  world: World,
  event: WorkEvent,
  t: Transition,
  before: Map<string, Bead>,
  agentsBefore: Map<string, Agent>,
  liveBefore: Map<string, Liveness>,
): void {
  // Checked with plain conditions; the failure message (with the recent trace) is built only on a violation.
  const violated = (rule: string): never => {
    throw new Error(`${rule}\nafter ${JSON.stringify(event)}\n${world.trace.slice(-25).join("\n")}`);
  };
  // W0: a bead has at most one owner, and an in_progress bead is its assignee's live run.
  const owners = new Map<string, Agent[]>();
  for (const agent of world.agents.values())
    if (agent.run && agent.run.state !== "stopping") owners.set(agent.run.bead, [...(owners.get(agent.run.bead) ?? []), agent]);
  for (const bead of world.beads.values()) {
    const own = owners.get(bead.id) ?? [];
    if (own.length > 1) violated(`W0: bead ${bead.id} has ${own.length} owners`);
    if (bead.status === "in_progress" && own[0]?.identity !== bead.assignee) violated(`W0: in_progress bead ${bead.id} is not run by its assignee`);
    if (bead.status !== "in_progress" && own.length) violated(`W0: ${bead.status} bead ${bead.id} still has a live run`);
    if (bead.status === "failed" && !bead.failure) violated(`failed bead ${bead.id} has no reason`);
  }
  // W7: an agent whose heartbeats arrive is never marked dead.
  for (const agent of t.agents) {
    if (agent.status !== "dead" || agentsBefore.get(agent.identity)?.status === "dead" || !agent.lastExit?.startsWith("no heartbeat")) continue;
    const silent = world.now - (world.heardAt.get(agent.identity) ?? -Infinity);
    if (silent <= CONFIG.heartbeatTimeoutMs) violated(`W7: ${agent.identity} marked dead ${silent} ms after a heartbeat`);
  }
  checkW8(world, event, t, agentsBefore, liveBefore, violated);
  // W11: an attempt is counted only for a real failure of that bead.
  if (event.type !== "operator_retry") {
    for (const bead of t.beads) {
      const grew = (bead.attempts ?? 0) - (before.get(bead.id)?.attempts ?? 0);
      if (grew <= 0) continue;
      if (grew > 1) violated(`W11: attempts grew by ${grew}`);
      if (!MAY_COUNT.has(event.type)) violated(`W11: attempts grew on ${event.type}`);
      if (event.type === "agent_exited" && event.lost) violated("W11: a run lost with its supervisor was counted");
      if (event.type === "merge_result" && event.failure === "branch_missing") violated("W11: a branch lost with its container was counted");
      if (event.type === "tick" && !world.lease.holder) violated("W11: counted while no container held the rig");
    }
  }
  // W15: an operator's stop fails the bead of the run it stopped, a restart reopens it; neither counts an attempt.
  if (event.type === "operator_stop_agent" || event.type === "operator_restart_agent") {
    const run = agentsBefore.get(event.identity)?.run;
    const was = run ? before.get(run.bead) : undefined;
    const now = run ? world.beads.get(run.bead) : undefined;
    if (!run || run.state === "stopping") violated(`W15: ${event.type} accepted for an agent without a live run`);
    if (world.agents.get(event.identity)?.run?.state !== "stopping") violated(`W15: ${event.type} did not stop the run`);
    if (was?.status === "in_progress" && was.assignee === event.identity && now) {
      // Restarted: open, or at once dispatched again to another polecat (dispatch runs in the same step).
      const ok =
        event.type === "operator_stop_agent"
          ? now.status === "failed" && now.failure?.startsWith("stopped by the operator")
          : now.status === "open" || (now.status === "in_progress" && now.assignee !== event.identity);
      if (!ok) violated(`W15: ${event.type} left bead ${run!.bead} ${now.status} (${now.failure ?? now.assignee ?? ""})`);
      if ((now.attempts ?? 0) !== (was.attempts ?? 0)) violated(`W15: ${event.type} changed attempts`);
    }
  }
  // W16: only unfinished beads not in review are moved; a moved bead is closed, and stays so, moved to the same place.
  for (const bead of t.beads) {
    const was = before.get(bead.id);
    if (was?.movedTo && (bead.status !== "closed" || bead.movedTo?.beadId !== was.movedTo.beadId))
      violated(`W16: moved bead ${bead.id} changed (${bead.status})`);
    if (bead.movedTo && !was?.movedTo) {
      if (event.type !== "operator_move") violated(`W16: bead ${bead.id} moved on ${event.type}`);
      if (bead.status !== "closed") violated(`W16: moved bead ${bead.id} is ${bead.status}`);
      if (was?.status === "closed" || was?.status === "in_review") violated(`W16: a ${was.status} bead was moved`);
      if ((bead.attempts ?? 0) !== (was?.attempts ?? 0)) violated(`W16: a move changed attempts`);
    }
  }
  // W10: a bead is merged at most once: once closed by a merge it is never worked or merged again
  // (short of an operator reopening it), and its merge commit never changes.
  for (const bead of t.beads) {
    const was = before.get(bead.id);
    if (was?.mergeCommit && bead.mergeCommit && bead.mergeCommit !== was.mergeCommit) violated(`W10: bead ${bead.id} merged twice`);
    if (was?.status === "closed" && was.mergeCommit && bead.status !== "closed" && !event.type.startsWith("operator_"))
      violated(`W10: merged bead ${bead.id} reopened`);
    if (event.type === "merge_result" && was?.status === "closed") violated(`W10: bead ${bead.id} closed by a second merge report`);
  }
}

/**
 * W8 after every step: a nudge only for a run not nudged already (one per silence); only real
 * progress (output after the nudge, or a tool call of the agent's own) clears one, never a heartbeat
 * or a renewal that reports nothing new; a nudge rides on the reply to the call that delivers it,
 * once; a run is stopped as hung only once a delivered nudge went unanswered for GT_AGENT_IDLE_MS or
 * at the ceiling.
 */
function checkW8(
  world: World,
  event: WorkEvent,
  t: Transition,
  agentsBefore: Map<string, Agent>,
  liveBefore: Map<string, Liveness>,
  violated: (rule: string) => never,
) {
  for (const e of t.effects) {
    if (e.kind !== "feed" || !e.agent) continue;
    const was = liveBefore.get(e.agent);
    if (/; nudged$/.test(e.text) && was?.nudgedAt !== undefined) violated(`W8: ${e.agent} nudged twice in one silence`);
    if (/hung \(/.test(e.text)) {
      if (!was) violated(`W8: ${e.agent} stopped as hung without liveness`);
      const ceiling = world.now - was.progressAt > CONFIG.ceilingMs;
      const unanswered = was.deliveredAt !== undefined && world.now - was.deliveredAt > CONFIG.idleMs;
      if (!ceiling && !unanswered) violated(`W8: ${e.agent} stopped as hung before its ceiling, with no unanswered nudge`);
    }
  }
  for (const [identity, was] of liveBefore) {
    const now = world.liveness.get(identity);
    const agent = world.agents.get(identity);
    if (was.nudgedAt === undefined || !now || now.nudgedAt !== undefined || !agent?.run || agent.run.id !== agentsBefore.get(identity)?.run?.id) continue;
    // Cleared: by a tool call of its own, or by a renewal reporting output after the nudge (after its delivery, once delivered).
    const mark = was.deliveredAt ?? was.nudgedAt;
    const printed =
      event.type === "container_renew" && event.agents.some((r) => r.identity === identity && r.quietMs !== undefined && world.now - r.quietMs > mark);
    if (!printed && event.type !== "agent_activity") violated(`W8: ${identity}'s nudge cleared by ${event.type}, which is not progress`);
  }
  if (event.type === "agent_activity" && t.reply !== null) {
    const was = liveBefore.get(event.identity);
    if (!event.deliver || was?.nudgedAt === undefined || was.deliveredAt !== undefined) violated(`W8: a nudge on a reply with none waiting`);
    if (world.liveness.get(event.identity)?.deliveredAt !== world.now) violated(`W8: a nudge went out without its delivery noted`);
  }
}

type Action =
  | { kind: "tick"; ms: number }
  | { kind: "freeze"; c: number; on: boolean }
  | { kind: "hang" | "vanish"; c: number; pick: number }
  | { kind: "pause"; ms: number }
  | { kind: "connect" | "disconnect" | "restart" | "renew" | "release" | "reap"; c: number }
  | { kind: "start"; c: number; pick: number; fails: boolean }
  | { kind: "exit"; c: number; pick: number; lost: boolean }
  | { kind: "staleExit" | "stop"; c: number; pick: number }
  | { kind: "done"; pick: number; fromAnyRun: boolean }
  | { kind: "merge"; c: number; pick: number; outcome: number }
  | { kind: "activity" | "heartbeat"; pick: number }
  /** An agent goes silent (a model thinking), maybe makes one tool call after a while, and time passes (W8). */
  | { kind: "silent"; c: number; pick: number; before: number; call: boolean; after: number }
  | { kind: "operator"; pick: number; status: "open" | "closed" | "failed" }
  | { kind: "retry" | "stopAgent" | "restartAgent" | "move"; pick: number }
  | { kind: "create" }
  | { kind: "roomRestart" };

const c = fc.integer({ min: 0, max: 1 });
const pick = fc.nat(20);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2_500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("freeze" as const), c, on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("hang" as const, "vanish" as const), c, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pause" as const), ms: fc.integer({ min: 2_000, max: 10_000 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom("connect" as const, "renew" as const, "renew" as const, "reap" as const), c }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("disconnect" as const, "restart" as const, "release" as const), c }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("start" as const), c, pick, fails: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("exit" as const), c, pick, lost: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("staleExit" as const, "stop" as const), c, pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("done" as const), pick, fromAnyRun: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("merge" as const), c, pick, outcome: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("activity" as const, "heartbeat" as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("silent" as const),
      c,
      pick,
      before: fc.integer({ min: 1_000, max: 3_000 }),
      call: fc.boolean(),
      after: fc.integer({ min: 0, max: 4_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("operator" as const), pick, status: fc.constantFrom("open" as const, "closed" as const, "failed" as const) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("retry" as const, "stopAgent" as const, "restartAgent" as const, "move" as const), pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("create" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("roomRestart" as const) }) },
);

function run(world: World, action: Action): void {
  // Container 0 of an action is whichever holds the rig now (else the first); 1 is the other one.
  const holder = world.containers.findIndex((x) => x.state === "held");
  const index = "c" in action ? (holder < 0 ? action.c : action.c === 0 ? holder : 1 - holder) : 0;
  const container = "c" in action ? world.containers[index]! : undefined;
  switch (action.kind) {
    case "tick":
      return world.advance(action.ms);
    case "pause":
      return world.tick(action.ms); // the room did not run meanwhile (W12)
    case "freeze":
      container!.frozen = action.on;
      return;
    case "hang": {
      const proc = pick1([...container!.procs.values()], action.pick);
      if (proc) proc.hung = true;
      return;
    }
    case "vanish": {
      // The process is gone and its exit was never reported (a lost acknowledgement).
      const proc = pick1([...container!.procs.values()], action.pick);
      if (proc) container!.procs.delete(proc.identity);
      return;
    }
    case "connect":
      return world.connect(container!);
    case "disconnect":
      return world.disconnect(container!);
    case "restart":
      return world.restart(container!);
    case "renew":
      return world.renew(container!);
    case "release":
      if (container!.state === "held" && container!.epoch) {
        const outcome = world.feed({ type: "container_release", connection: container!.connection, epoch: container!.epoch });
        if (!(outcome instanceof ToolError)) {
          world.disconnect(container!);
          world.lost(container!);
        }
      }
      return;
    case "reap":
      return world.reap(container!);
    case "start":
      return world.start(container!, action.pick, action.fails);
    case "exit":
      return world.exit(container!, action.pick, action.lost);
    case "staleExit":
      return world.staleExit(container!, action.pick);
    case "stop":
      return world.stop(container!, action.pick);
    case "done":
      return world.done(action.pick, action.fromAnyRun);
    case "merge":
      return world.merge(container!, action.pick, action.outcome);
    case "silent": {
      const proc = pick1([...container!.procs.values()], action.pick);
      if (!proc) return;
      proc.hung = true;
      world.advance(action.before);
      if (action.call && world.agents.get(proc.identity)?.run?.id === proc.run)
        world.feed({ type: "agent_activity", identity: proc.identity, run: proc.run, deliver: nudgeWaiting(world.liveness.get(proc.identity)) });
      return world.advance(action.after);
    }
    case "activity":
    case "heartbeat": {
      const agent = pick1(
        [...world.agents.values()].filter((a) => a.run),
        action.pick,
      );
      if (!agent) return;
      // As the rig room does: a call asks to deliver the nudge that waits for its run.
      if (action.kind === "activity")
        world.feed({ type: "agent_activity", identity: agent.identity, deliver: nudgeWaiting(world.liveness.get(agent.identity)) });
      else world.feed({ type: "agent_heartbeat", identity: agent.identity, epoch: null });
      return;
    }
    case "operator": {
      const bead = pick1([...world.beads.values()], action.pick);
      if (bead) world.feed({ type: "operator_set_status", beadId: bead.id, status: action.status });
      return;
    }
    case "retry": {
      const bead = pick1(
        [...world.beads.values()].filter((b) => b.status === "failed"),
        action.pick,
      );
      if (bead) world.feed({ type: "operator_retry", beadId: bead.id });
      return;
    }
    case "stopAgent":
    case "restartAgent": {
      // Any agent with a run, stopping ones included (refused: CONFLICT, nothing changes).
      const agent = pick1(
        [...world.agents.values()].filter((a) => a.run),
        action.pick,
      );
      if (agent) world.feed({ type: action.kind === "stopAgent" ? "operator_stop_agent" : "operator_restart_agent", identity: agent.identity, reason: "test" });
      return;
    }
    case "move": {
      // Any bead: closed, in review and moved ones included (refused, or answered as they are).
      const bead = pick1([...world.beads.values()], action.pick);
      if (bead) world.feed({ type: "operator_move", beadId: bead.id, toRig: "other", toRigId: "01RIGOTHER0000000000000000", newBeadId: beadId() });
      return;
    }
    case "create":
      return world.create();
    case "roomRestart": {
      // The room process dies: sockets go, memory goes (liveness, connections); storage stays.
      world.liveness.clear();
      const holder = world.lease.holder;
      world.lease = { ...emptyLease(), epoch: world.lease.epoch, holder: holder ? { ...holder, connection: null, renewBy: 0 } : null };
      for (const c of world.containers) {
        c.connection = null;
        c.state = null;
      }
      world.feed({ type: "room_started" });
      return;
    }
  }
}

/**
 * A healthy container (ca, a fresh session) and its agents from now on: everything is acknowledged
 * at once, every agent finishes, every merge lands. Returns the simulated time it took for every
 * bead to reach closed or failed.
 */
function settle(world: World): number {
  for (const c of world.containers) world.disconnect(c);
  const healthy = world.containers[0]!;
  world.lost(healthy);
  healthy.session += 1;
  world.connect(healthy);
  const began = world.now;
  for (let i = 0; i < 2_000; i++) {
    if ([...world.beads.values()].every((b) => b.status === "closed" || b.status === "failed")) return world.now - began;
    world.tick(50);
    world.connect(healthy);
    world.renew(healthy);
    for (const command of [...healthy.inbox].filter((x) => !healthy.seen.has(x.id))) {
      if (command.kind === "start_agent")
        world.start(healthy, healthy.inbox.filter((x) => x.kind === "start_agent" && !healthy.seen.has(x.id)).indexOf(command), false);
      else if (command.kind === "stop_agent") world.stop(healthy, world.pending(healthy, "stop_agent").indexOf(command));
      else world.merge(healthy, world.pending(healthy, "merge").indexOf(command), 0);
    }
    for (const proc of [...healthy.procs.values()].filter((p) => !p.done)) world.done([...healthy.procs.values()].filter((p) => !p.done).indexOf(proc), false);
    world.reap(healthy);
  }
  const stuck = [...world.beads.values()].filter((b) => b.status !== "closed" && b.status !== "failed");
  throw new Error(`beads never settled: ${stuck.map((b) => `${b.id} ${b.status}`).join(", ")}\n${world.trace.slice(-40).join("\n")}`);
}

/** A room whose one container holds the rig and runs one bead's agent. */
function oneRun() {
  const world = new World();
  world.feed({ type: "room_started" });
  const a = world.containers[0]!;
  world.connect(a);
  world.create();
  world.start(a, 0, false);
  return { world, a, proc: [...a.procs.values()][0]! };
}

describe("the work lifecycle under random interleavings (party/work/)", () => {
  it("W0, W7, W10, W11: one owner per bead, no live agent declared dead, attempts only for real failures, merged at most once; W13: a healthy container settles every bead in bounded time", () => {
    let longest = 0;
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 20, maxLength: 200, size: "max" }), (actions) => {
        const world = new World();
        world.feed({ type: "room_started" });
        for (const action of actions) run(world, action);
        const took = settle(world);
        longest = Math.max(longest, took);
        // Bounded: queued beads two at a time, plus a lease handover, a merge retry cycle and stop timeouts.
        const bound = CONFIG.leaseTtlMs + CONFIG.stopTimeoutMs + CONFIG.mergeTries * CONFIG.mergeTimeoutMs + world.beads.size * 500 + 5_000;
        expect(took).toBeLessThanOrEqual(bound);
      }),
      // Seeded, so the coverage check below cannot fail on an unlucky draw (a random seed missed
      // "hung" about one run in five); FC_SEED explores others.
      { numRuns: 1_000, seed: Number(process.env.FC_SEED ?? 20261125) },
    );
    expect(longest).toBeGreaterThan(0);
    // The random interleavings did reach every case (else the invariants above prove little).
    for (const [what] of [...CASES, ["merged"]] as [string][]) expect(World.seen.get(what) ?? 0, `no interleaving reached: ${what}`).toBeGreaterThan(0);
  }, 120_000); // 1,000 interleavings take about 2 s alone, and several times that on a loaded 2-core machine

  it("W2, W3, W5: a holder that stops renewing loses the rig at its deadline; the standby takes over with a new epoch and its runs come back without an attempt", () => {
    const world = new World();
    world.feed({ type: "room_started" });
    const [a, b] = world.containers as [Container, Container];
    world.connect(a);
    world.connect(b);
    expect(a.state).toBe("held");
    expect(b.state).toBe("standby");
    world.create();
    world.start(a, 0, false);
    const proc = [...a.procs.values()][0]!;
    // a freezes: only b renews. Before the deadline nothing moves…
    for (let t = 0; t < CONFIG.leaseTtlMs; t += 100) {
      world.tick(100);
      world.renew(b);
      if (t + 100 < CONFIG.leaseTtlMs) expect(world.lease.holder?.container).toBe("ca");
    }
    world.tick(100);
    expect(world.lease.holder?.container).toBe("cb");
    expect(world.lease.holder?.epoch).toBe(2);
    expect(b.state).toBe("held");
    const bead = world.beads.get(proc.bead)!;
    expect(bead.attempts ?? 0).toBe(0);
    // …and b is sent the bead at once, under its epoch. a's late acknowledgements are refused.
    expect(b.inbox.some((x) => x.kind === "start_agent" && x.beadId === bead.id && x.epoch === 2)).toBe(true);
    const late = world.feed({ type: "agent_exited", identity: proc.identity, run: proc.run, epoch: 1, exit: "exit 0" });
    expect(late).toBeInstanceOf(ToolError);
    expect((late as ToolError).code).toBe("LEASE_LOST");
  });

  it("W11: the exit of an agent's earlier run never touches its current run (finding 2)", () => {
    const world = new World();
    world.feed({ type: "room_started" });
    const a = world.containers[0]!;
    world.connect(a);
    world.feed({ type: "tick" });
    world.create();
    world.start(a, 0, false);
    const { run: firstRun, bead: first } = [...a.procs.values()][0]!;
    world.done(0, false);
    world.create();
    world.start(a, 0, false);
    const current = [...a.procs.values()].find((p) => !p.done)!;
    world.renew(a);
    world.tick(CONFIG.heartbeatTimeoutMs * 0.4);
    world.renew(a);
    world.feed({ type: "agent_exited", identity: current.identity, run: firstRun, beadId: first, epoch: a.epoch!, exit: "exit 0" }); // the first run's exit, reported late
    world.tick(CONFIG.heartbeatTimeoutMs * 0.4); // silent for a while: within the timeout
    for (let t = 0; t < 3 * CONFIG.heartbeatTimeoutMs; t += 200) {
      world.renew(a);
      world.tick(200);
    }
    expect(world.agents.get(current.identity)?.status, world.trace.join("\n")).toBe("working");
    expect(world.beads.get(current.bead)?.attempts ?? 0).toBe(0);
    expect(world.beads.get(current.bead)?.status).toBe("in_progress");
  });

  it("an agent's last exit is its last run's: the exit after gt_done fills it, an earlier run's late report does not", () => {
    const world = new World();
    world.feed({ type: "room_started" });
    const a = world.containers[0]!;
    world.connect(a);
    world.feed({ type: "tick" });
    world.create();
    world.start(a, 0, false);
    const first = [...a.procs.values()][0]!;
    world.exit(a, 0, false); // run 1 ends before gt_done: "exit 1"
    expect(world.agents.get(first.identity)?.lastExit).toBe("exit 1");
    world.start(a, 0, false);
    const second = [...a.procs.values()].find((p) => !p.done)!;
    expect(second.bead).toBe(first.bead);
    world.done(0, false);
    expect(world.agents.get(second.identity)?.lastExit).toBe("handed its bead in; its exit is not reported yet");
    world.reap(a); // run 2's process exits 0 after handing its bead in
    expect(world.agents.get(second.identity)?.lastExit, world.trace.join("\n")).toBe("exit 0");
    expect(world.agents.get(second.identity)?.lastRun).toBe(second.run);
    // Run 1's exit reported again, late: history, not the agent's last run.
    world.feed({ type: "agent_exited", identity: first.identity, beadId: first.bead, run: first.run, epoch: a.epoch!, exit: "signal SIGTERM" });
    expect(world.agents.get(first.identity)?.lastExit).toBe(first.identity === second.identity ? "exit 0" : "exit 1");
  });

  /**
   * A silent run as the container reports it: every 100 ms a renewal that vouches for it with the time
   * since its last output (which only grows: nothing new), a heartbeat, and a tick. Returns the feed
   * lines about the agent, and the time each came.
   */
  function silence(world: World, a: Container, proc: Proc, ms: number, lastOutputAt: number, lines: { at: number; text: string }[] = []) {
    for (let t = 0; t < ms; t += 100) {
      world.now += 100;
      const quietMs = world.now - lastOutputAt;
      expect(
        world.feed({ type: "container_renew", connection: a.connection, epoch: a.epoch!, agents: [{ identity: proc.identity, run: proc.run, quietMs }] }),
      ).not.toBeInstanceOf(ToolError);
      world.feed({ type: "agent_heartbeat", identity: proc.identity, epoch: null, run: proc.run });
      const tick = world.feed({ type: "tick" }) as Transition;
      for (const e of tick.effects) if (e.kind === "feed" && e.agent === proc.identity) lines.push({ at: world.now, text: e.text });
    }
    return lines;
  }
  const nudgedLines = (lines: { at: number; text: string }[]) => lines.filter((l) => /; nudged$/.test(l.text));

  it("W8: a silent run is nudged once at GT_AGENT_IDLE_MS; renewals (quiet_ms that only grows) and heartbeats do not clear the nudge: one nudge per silence", () => {
    const { world, a, proc } = oneRun();
    const began = world.now;
    const lines = silence(world, a, proc, CONFIG.ceilingMs - 100, began);
    expect(nudgedLines(lines).map((l) => l.at - began)).toEqual([CONFIG.idleMs + 100]);
    expect(world.agents.get(proc.identity)).toMatchObject({ status: "hung", run: { state: "running" } });
    expect(world.liveness.get(proc.identity)?.nudgedAt).toBe(began + CONFIG.idleMs + 100);
    // The nudge is no mail and no effect of its own: it waits for the run.
    expect(nudgeWaiting(world.liveness.get(proc.identity))).toBe(true);
  });

  it("W8: a nudge no tool call fetched stops the run at the ceiling (no progress for GT_AGENT_CEILING_MS), not before, its attempt counted", () => {
    const { world, a, proc } = oneRun();
    const began = world.now;
    const lines = silence(world, a, proc, CONFIG.ceilingMs, began);
    expect(world.agents.get(proc.identity)!.run?.state).toBe("running");
    silence(world, a, proc, 200, began, lines);
    expect(lines.map((l) => l.text)).toEqual([
      `${proc.identity} made no progress for 2 s; nudged`,
      `${proc.identity} hung (no progress for ${Math.round((CONFIG.ceilingMs + 100) / 1000)} s); stopped`,
    ]);
    expect(world.agents.get(proc.identity)!.run?.state).toBe("stopping");
    const bead = world.beads.get(proc.bead)!;
    expect(bead.attempts).toBe(1);
    expect(
      bead.history?.some((h) => h.status === "open" && new RegExp(`hung: no progress for ${Math.round((CONFIG.ceilingMs + 100) / 1000)} s`).test(h.note ?? "")),
    ).toBe(true);
  });

  it("W8: the nudge rides once on the reply to the agent's next tool call; unanswered for GT_AGENT_IDLE_MS after that, the run is stopped before its ceiling", () => {
    const { world, a, proc } = oneRun();
    const began = world.now;
    const lines = silence(world, a, proc, CONFIG.idleMs + 500, began);
    const nudgedAt = world.liveness.get(proc.identity)!.nudgedAt!;
    // The agent's tool call (the room asks to deliver: a nudge waits) carries it back; the call is its delivery, not its answer.
    const call = world.feed({ type: "agent_activity", identity: proc.identity, run: proc.run, deliver: true }) as Transition;
    const bead = world.beads.get(proc.bead)!;
    expect(call.reply).toEqual({
      from: "r/witness",
      at: nudgedAt,
      subject: "nudge: no progress for 3 s",
      body: `You hold bead ${bead.id} (${bead.title}) and have made no progress (no output, no tool call) for 3 s. Carry on, call gt done, or gt escalate; without progress your run is stopped in 2 s.`,
    });
    expect(call.effects).toContainEqual(
      expect.objectContaining({ kind: "feed", feed: "witness", text: `${proc.identity} got its nudge (no progress for 3 s)` }),
    );
    const deliveredAt = world.now;
    expect(world.liveness.get(proc.identity)).toMatchObject({ nudgedAt, deliveredAt });
    expect(world.agents.get(proc.identity)!.status).toBe("hung");
    // Once: nothing waits any more, so the room asks no call to deliver it again.
    expect(nudgeWaiting(world.liveness.get(proc.identity))).toBe(false);
    world.now += 100;
    expect((world.feed({ type: "agent_activity", identity: proc.identity, run: proc.run, deliver: true }) as Transition).reply).toBeNull();
    // That second call was progress after the delivery: it answered the nudge.
    expect(world.liveness.get(proc.identity)?.nudgedAt).toBeUndefined();
    expect(world.agents.get(proc.identity)!.status).toBe("working");

    // Again, and this time unanswered: stopped GT_AGENT_IDLE_MS after the delivery, long before the ceiling.
    const again = world.now;
    silence(world, a, proc, CONFIG.idleMs + 300, began, lines);
    expect((world.feed({ type: "agent_activity", identity: proc.identity, run: proc.run, deliver: true }) as Transition).reply).toMatchObject({
      from: "r/witness",
    });
    const delivered = world.now;
    silence(world, a, proc, CONFIG.idleMs, again, lines);
    expect(world.agents.get(proc.identity)!.run?.state).toBe("running");
    silence(world, a, proc, 200, again, lines);
    expect(world.agents.get(proc.identity)!.run?.state).toBe("stopping");
    expect(world.now - again).toBeLessThan(CONFIG.ceilingMs);
    expect(lines.at(-1)!.text).toMatch(/hung \(no progress for \d+ s, none since its nudge 2 s ago\); stopped$/);
    expect(lines.at(-1)!.at - delivered).toBe(CONFIG.idleMs + 100);
    expect(world.beads.get(proc.bead)!.attempts).toBe(1);
    expect(deliveredAt).toBeGreaterThan(nudgedAt);
  });

  it("W8: real progress clears the nudge (output after it, or a tool call of the agent's own); a new silence is nudged again", () => {
    const { world, a, proc } = oneRun();
    const began = world.now;
    const lines = silence(world, a, proc, CONFIG.idleMs + 500, began);
    expect(world.agents.get(proc.identity)!.status).toBe("hung");
    // The agent printed (a thinking model's stream event): the renewal's quiet_ms is short.
    world.now += 100;
    world.feed({ type: "container_renew", connection: a.connection, epoch: a.epoch!, agents: [{ identity: proc.identity, run: proc.run, quietMs: 50 }] });
    expect(world.agents.get(proc.identity)!.status).toBe("working");
    expect(world.liveness.get(proc.identity)?.nudgedAt).toBeUndefined();
    const printedAt = world.now - 50;
    // Silent again: one more nudge, a full GT_AGENT_IDLE_MS after that output; then a tool call clears it.
    silence(world, a, proc, CONFIG.idleMs + 300, printedAt, lines);
    expect(nudgedLines(lines)).toHaveLength(2);
    expect(nudgedLines(lines)[1]!.at).toBeGreaterThan(printedAt + CONFIG.idleMs);
    world.now += 100;
    expect((world.feed({ type: "agent_activity", identity: proc.identity, run: proc.run }) as Transition).reply).toBeNull();
    expect(world.agents.get(proc.identity)!.status).toBe("working");
    expect(world.liveness.get(proc.identity)).toEqual({ heartbeatAt: world.now, progressAt: world.now });
    // Never stopped: each silence was answered.
    silence(world, a, proc, CONFIG.idleMs - 100, world.now, lines);
    expect(world.agents.get(proc.identity)).toMatchObject({ status: "working", run: { state: "running" } });
  });

  it("W14: a retry reopens only a failed bead, attempts reset, the operator's note in its history", () => {
    const { world, a, proc } = oneRun();
    const stopped = world.feed({ type: "operator_stop_agent", identity: proc.identity, reason: "wrong approach" }) as Transition;
    expect(stopped).not.toBeInstanceOf(ToolError);
    const failedBead = world.beads.get(proc.bead)!;
    expect(failedBead).toMatchObject({ status: "failed", failure: "stopped by the operator: wrong approach" });
    const retried = world.feed({ type: "operator_retry", beadId: proc.bead, note: "try the other API" }) as Transition;
    const bead = retried.reply as Bead;
    expect(bead).toMatchObject({ status: "open", attempts: 0 });
    expect(bead.failure).toBeUndefined();
    expect(bead.history?.find((h) => h.status === "open" && h.note?.startsWith("retried by the operator"))?.note).toBe(
      "retried by the operator (attempts 0 → 0): try the other API",
    );
    const again = world.feed({ type: "operator_retry", beadId: proc.bead });
    expect(again).toBeInstanceOf(ToolError);
    expect((again as ToolError).code).toBe("CONFLICT");
  });

  it("W15: stop fails the run's bead, restart reopens it to be dispatched again; neither counts an attempt, and an agent without a live run is CONFLICT", () => {
    const stop = oneRun();
    const stopped = stop.world.feed({ type: "operator_stop_agent", identity: stop.proc.identity }) as Transition;
    expect(stopped.reply).toMatchObject({ status: "stopping", run: { state: "stopping", reason: "stopped by the operator" } });
    expect(stop.world.beads.get(stop.proc.bead)).toMatchObject({ status: "failed", failure: "stopped by the operator", assignee: stop.proc.identity });
    expect(stop.world.beads.get(stop.proc.bead)!.attempts ?? 0).toBe(0);
    expect(stop.a.inbox.some((x) => x.kind === "stop_agent" && x.run === stop.proc.run)).toBe(true);
    // Being stopped already, or stopped: nothing to stop.
    const twice = stop.world.feed({ type: "operator_stop_agent", identity: stop.proc.identity });
    expect((twice as ToolError).code).toBe("CONFLICT");
    stop.world.stop(stop.a, 0);
    expect(stop.world.agents.get(stop.proc.identity)!.run).toBeUndefined();
    expect((stop.world.feed({ type: "operator_restart_agent", identity: stop.proc.identity }) as ToolError).code).toBe("CONFLICT");
    expect((stop.world.feed({ type: "operator_stop_agent", identity: "r/polecats/nobody" }) as ToolError).code).toBe("UNKNOWN_AGENT");

    const restart = oneRun();
    restart.world.feed({ type: "operator_restart_agent", identity: restart.proc.identity, reason: "stuck on a lock" });
    const bead = restart.world.beads.get(restart.proc.bead)!;
    expect(bead.attempts ?? 0).toBe(0);
    expect(bead.history?.some((h) => h.status === "open" && h.note === `${restart.proc.identity} restarted by the operator: stuck on a lock`)).toBe(true);
    // Dispatched again at once, to another polecat (the first one is busy until its stop is acknowledged), as run 2.
    expect(bead).toMatchObject({ status: "in_progress", runs: 2 });
    expect(bead.assignee).not.toBe(restart.proc.identity);
    expect(restart.a.inbox.some((x) => x.kind === "start_agent" && x.run === `${bead.id}.2`)).toBe(true);
  });

  it("W16: a move closes the bead with movedTo and stops its run, once; closed and in-review beads are CONFLICT", () => {
    const { world, a, proc } = oneRun();
    const move = (beadId: string, toRig = "web") =>
      world.feed({ type: "operator_move", beadId, toRig, toRigId: "01RIGWEB00000000000000000A", newBeadId: "01NEWBEAD0000000000000000A" });
    const moved = move(proc.bead) as Transition;
    expect(moved.reply).toMatchObject({ status: "closed", movedTo: { rig: "web", beadId: "01NEWBEAD0000000000000000A" } });
    expect(moved.effects).toContainEqual({
      kind: "moved",
      beadId: proc.bead,
      toRig: "web",
      toRigId: "01RIGWEB00000000000000000A",
      newBeadId: "01NEWBEAD0000000000000000A",
    });
    expect(world.beads.get(proc.bead)!.history?.at(-1)?.note).toBe("moved to web");
    expect(world.agents.get(proc.identity)!.run?.state).toBe("stopping");
    expect(a.inbox.some((x) => x.kind === "stop_agent" && x.run === proc.run)).toBe(true);
    // Asked again (a retry, or a move elsewhere): answered as it is, with no second notice.
    const again = move(proc.bead, "docs") as Transition;
    expect(again.reply).toMatchObject({ movedTo: { rig: "web" } });
    expect(again.effects.some((e) => e.kind === "moved")).toBe(false);
    // Its status is the operator's no more.
    expect((world.feed({ type: "operator_set_status", beadId: proc.bead, status: "open" }) as ToolError).code).toBe("CONFLICT");

    // A bead in review (its merge under way) and a merged one are not moved.
    world.stop(a, 0);
    world.create();
    world.start(a, 0, false);
    const second = [...a.procs.values()].find((p) => p.bead !== proc.bead)!;
    world.done(0, false);
    expect(world.beads.get(second.bead)!.status).toBe("in_review");
    expect((move(second.bead) as ToolError).code).toBe("CONFLICT");
    world.merge(a, 0, 0);
    expect(world.beads.get(second.bead)!.status).toBe("closed");
    expect((move(second.bead) as ToolError).code).toBe("CONFLICT");
  });

  it("gt_done repeated by the same run answers what it answered first, also after the merge and once the agent runs its next bead", () => {
    const { world, a, proc } = oneRun();
    const done = () => world.feed({ type: "done", identity: proc.identity, run: proc.run, branch: proc.branch });
    expect((done() as Transition).reply).toEqual({ bead_id: proc.bead, status: "in_review" });
    expect((done() as Transition).reply).toEqual({ bead_id: proc.bead, status: "in_review" });
    world.merge(a, 0, 0);
    expect(world.beads.get(proc.bead)!.status).toBe("closed");
    // The polecat is free: its next bead is dispatched to it, as its next run.
    world.create();
    expect(world.agents.get(proc.identity)!.run?.bead).not.toBe(proc.bead);
    const repeat = done() as Transition;
    expect(repeat.reply).toEqual({ bead_id: proc.bead, status: "in_review" });
    expect(repeat.beads).toEqual([]);
    // Acting as the agent (operator, container: no run named), the old branch is the hand-in too.
    expect((world.feed({ type: "done", identity: proc.identity, branch: proc.branch }) as Transition).reply).toEqual({
      bead_id: proc.bead,
      status: "in_review",
    });
    // Another branch is not a repeat.
    expect((world.feed({ type: "done", identity: proc.identity, run: proc.run, branch: "gt/other/branch" }) as ToolError).code).toBe("CONFLICT");
  });

  it("gt_done repeated after its merge failed (the bead reopened) is CONFLICT: the hand-in was undone", () => {
    const { world, a, proc } = oneRun();
    world.feed({ type: "done", identity: proc.identity, run: proc.run, branch: proc.branch });
    world.merge(a, 0, 3); // conflict
    expect(world.beads.get(proc.bead)).toMatchObject({ attempts: 1 });
    expect(world.beads.get(proc.bead)!.status).not.toBe("in_review");
    expect((world.feed({ type: "done", identity: proc.identity, run: proc.run, branch: proc.branch }) as ToolError).code).toBe("CONFLICT");
  });

  it("gt_merge_result for a bead not in review: a repeat of the applied report answers the same; any other is CONFLICT", () => {
    const merged = oneRun();
    merged.world.feed({ type: "done", identity: merged.proc.identity, run: merged.proc.run, branch: merged.proc.branch });
    const epoch = merged.a.epoch!;
    const commit = "c".repeat(40);
    const ok = { type: "merge_result", beadId: merged.proc.bead, epoch, ok: true, mergeCommit: commit } as const;
    const first = merged.world.feed(ok) as Transition;
    expect(first.reply).toMatchObject({ status: "closed", mergeCommit: commit });
    const again = merged.world.feed(ok) as Transition;
    expect(again.reply).toEqual(first.reply);
    expect(again.beads).toEqual([]);
    for (const other of [
      { ...ok, mergeCommit: "d".repeat(40) },
      { type: "merge_result", beadId: merged.proc.bead, epoch, ok: false, failure: "conflict", error: "late" },
    ] as const) {
      expect((merged.world.feed(other) as ToolError).code).toBe("CONFLICT");
    }

    const refused = oneRun();
    refused.world.feed({ type: "done", identity: refused.proc.identity, run: refused.proc.run, branch: refused.proc.branch });
    const conflict = {
      type: "merge_result",
      beadId: refused.proc.bead,
      epoch: refused.a.epoch!,
      ok: false,
      failure: "conflict",
      error: "CONFLICT in a.ts",
    } as const;
    const reopened = refused.world.feed(conflict) as Transition;
    expect(reopened.reply).toMatchObject({ status: "open", attempts: 1 });
    expect(reopened.effects.filter((e) => e.kind === "escalate")).toHaveLength(1);
    const repeat = refused.world.feed(conflict) as Transition;
    expect(repeat.reply).toMatchObject({ id: refused.proc.bead, attempts: 1 });
    expect(repeat.effects.filter((e) => e.kind === "escalate")).toEqual([]);
    expect(repeat.beads).toEqual([]);
    expect((refused.world.feed({ ...conflict, error: "another conflict" }) as ToolError).code).toBe("CONFLICT");
    expect(
      (refused.world.feed({ type: "merge_result", beadId: refused.proc.bead, epoch: refused.a.epoch!, ok: true, mergeCommit: "e".repeat(40) }) as ToolError)
        .code,
    ).toBe("CONFLICT");

    // A bead never handed in: no merge of it is awaited.
    const open = oneRun();
    expect((open.world.feed({ type: "merge_result", beadId: open.proc.bead, epoch: open.a.epoch!, ok: true, mergeCommit: commit }) as ToolError).code).toBe(
      "CONFLICT",
    );
  });

  it("W12: after the room itself did not run, nobody is blamed for the gap", () => {
    const { world } = oneRun();
    world.tick(10 * CONFIG.heartbeatTimeoutMs); // a paused room (SIGSTOP), or the clock jumped
    expect(world.lease.holder?.container).toBe("ca");
    expect([...world.agents.values()].find((x) => x.run)?.status).toBe("working");
    expect(nextWake(world.state(), world.now)).toBeGreaterThan(world.now);
  });
});

/**
 * The world above, with beads created through the machine (`bead_create`, then the dispatch it owes,
 * as the rig room does), and every step's changes compared with table.ts from the outside: a bead's
 * statuses by the history entries the step added, a run's state (by its id: a new run went through
 * `none`) and the lease's mode before and after (through at most one state between, on the event or
 * the dispatch after it).
 */
class TableWorld extends World {
  /** Every row seen, as `machine from on to`. */
  static readonly rows = new Set<string>();

  override create(): void {
    const id = beadId();
    const created = this.feed({ type: "bead_create", bead: { id, title: `bead ${id.slice(-4)}`, body: "", priority: "medium", requires: [] } });
    if (!(created instanceof ToolError) && created.then === "dispatch") this.feed({ type: "dispatch" });
  }

  private restarts = 0;

  /** Two restarts in three overlap: the new process connects while the room still sees the old socket (W1). */
  override restart(c: Container): void {
    if (!c.connection || this.restarts++ % 3 === 0) return super.restart(c);
    const old = c.connection;
    this.lost(c);
    c.session += 1;
    c.connection = `conn-r${this.restarts}`;
    this.feed({ type: "container_connected", connection: c.connection, container: c.id, session: `s${c.session}` });
    this.feed({ type: "container_disconnected", connection: old });
  }

  override feed(event: WorkEvent): Transition | ToolError {
    const beads = new Map(this.beads);
    const agents = new Map(this.agents);
    const mode = leaseMode(this.lease);
    const t = super.feed(event);
    if (t instanceof ToolError) return t;
    const seen = (machine: Machine, from: string, to: string) => {
      const on = allows(machine, from, event.type, to) ? event.type : "dispatch";
      if (!allows(machine, from, on, to))
        throw new Error(`${machine} ${from} → ${to} on ${event.type} is not a row of table.ts\n${this.trace.slice(-10).join("\n")}`);
      if (from !== to) TableWorld.rows.add(`${machine} ${from} ${on} ${to}`);
    };
    for (const bead of t.beads) {
      const before = beads.get(bead.id);
      const added = (bead.historyCount ?? 0) - (before?.historyCount ?? 0);
      const history = bead.history ?? [];
      if (added > history.length) throw new Error(`bead ${bead.id}: ${added} status changes in one step, more than its record shows`);
      let from: string = before?.status ?? "none";
      for (const entry of history.slice(history.length - added)) {
        seen("bead", from, entry.status);
        from = entry.status;
      }
    }
    for (const agent of t.agents) {
      const [was, now] = [agents.get(agent.identity)?.run, agent.run];
      if (was && now && was.id !== now.id) {
        // One run ended and the next began in this step: through `none`.
        seen("run", was.state, "none");
        seen("run", "none", now.state);
      } else throughOne(seen, "run", was?.state ?? "none", now?.state ?? "none", event);
    }
    throughOne(seen, "lease", mode, leaseMode(this.lease), event);
    return t;
  }
}

function leaseMode(lease: LeaseState): string {
  return lease.holder === null ? "vacant" : lease.holder.connection === null ? "away" : "held";
}

/** A change seen only before and after a step: a row, or two rows through one state between. */
function throughOne(seen: (machine: Machine, from: string, to: string) => void, machine: Machine, from: string, to: string, event: WorkEvent): void {
  if (from === to || allows(machine, from, event.type, to) || allows(machine, from, "dispatch", to)) return seen(machine, from, to);
  const states = new Set(TABLES[machine].flatMap(([f, , t]) => [f, ...t]));
  const between = [...states].find((m) => allows(machine, from, event.type, m) && (allows(machine, m, event.type, to) || allows(machine, m, "dispatch", to)));
  if (between === undefined) return seen(machine, from, to); // fails, naming the change
  seen(machine, from, between);
  seen(machine, between, to);
}

describe("the transition table (party/work/table.ts)", () => {
  it("every status change seen in random runs is a row of table.ts: beads by their history, runs and the lease before and after each step", () => {
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 20, maxLength: 200, size: "max" }), (actions) => {
        const world = new TableWorld();
        world.feed({ type: "room_started" });
        for (const action of actions) run(world, action);
        settle(world);
      }),
      { numRuns: 1_000, seed: Number(process.env.FC_SEED ?? 20261125) },
    );
    // The interleavings reached the rows worth reaching (else the check above proves little).
    const rows = (machine: Machine) => TABLES[machine].flatMap(([from, on, to]) => to.map((t) => `${machine} ${from} ${on} ${t}`));
    const unseen = [...rows("bead"), ...rows("run"), ...rows("lease")].filter((row) => !TableWorld.rows.has(row));
    expect(unseen).toEqual(RARE);
  }, 120_000);
});

/** Rows the random world cannot show, and why (the machine checks them as it makes them, like every row). */
const RARE_ROWS: Record<string, string> = {
  // Its containers list the starts they took on (as container/rig-worker.ts does), and a lease lapses
  // (600 ms) before a silent run's heartbeat does (1 s): a starting run is never judged dead.
  "run starting tick stopping": "W7 for a start never acknowledged",
  // It releases only over a connected holder's socket.
  "lease away container_release vacant": "a release over HTTP while the holder's socket is gone",
  // held → vacant → held within one step: seen from outside as held before and after.
  "lease vacant container_release held": "a standby promoted on release",
  // Its room restart forgets the sockets before the room_started event, as the room does on start.
  "lease held room_started away": "the holder's socket forgotten at start",
};
const RARE = Object.keys(RARE_ROWS);

describe("rules of the lease and the witness, one by one", () => {
  it("W1: a reconnect keeps the epoch and the runs; the holder's restart takes the lease at once with a new epoch; another container stands by; a restart waiting behind the old socket takes over when that socket closes", () => {
    const { world, a, proc } = oneRun();
    const b = world.containers[1]!;
    expect(world.lease.holder).toMatchObject({ container: "ca", epoch: 1 });
    // A reconnect of the same session: the same epoch, its run goes on.
    world.disconnect(a);
    expect(world.lease.holder).toMatchObject({ container: "ca", connection: null, epoch: 1 });
    world.connect(a);
    expect(world.lease.holder).toMatchObject({ container: "ca", connection: a.connection, epoch: 1 });
    expect(world.agents.get(proc.identity)!.run?.id).toBe(proc.run);
    // Another container stands by.
    world.connect(b);
    expect(b.state).toBe("standby");
    expect(world.lease.holder?.container).toBe("ca");
    // The holder's container restarts (its old socket gone): granted at once, a new epoch, its runs void.
    world.restart(a);
    expect(world.lease.holder).toMatchObject({ container: "ca", session: "s2", epoch: 2 });
    expect(world.agents.get(proc.identity)!.run?.id).not.toBe(proc.run);
    expect(world.beads.get(proc.bead)!.attempts ?? 0).toBe(0);
    // A restart the room sees while the old socket is still open stands by, and takes over when it closes.
    world.feed({ type: "container_connected", connection: "conn-restarted", container: "ca", session: "s3" });
    expect(world.lease.holder).toMatchObject({ connection: a.connection, epoch: 2 });
    world.disconnect(a);
    expect(world.lease.holder).toMatchObject({ connection: "conn-restarted", session: "s3", epoch: 3 });
    expect(world.lease.epoch).toBe(3);
  });

  it("W4: a renewal keeps the lease and vouches for the runs it lists (a stalled agent works again, quiet_ms is progress); a stale or missing epoch, or another socket, is LEASE_LOST; a standby renews its place", () => {
    const { world, a, proc } = oneRun();
    const renew = (agents: { identity: string; run?: string; quietMs?: number }[], epoch: number | null = a.epoch, connection: string | null = a.connection) =>
      world.feed({ type: "container_renew", connection, epoch, agents });
    world.feed({ type: "agent_started", identity: proc.identity, beadId: proc.bead, run: proc.run, epoch: a.epoch! });
    // Renewed, but nobody vouches for the run: stalled at half the heartbeat timeout.
    for (let t = 0; t < CONFIG.heartbeatTimeoutMs * 0.6; t += 100) {
      world.now += 100;
      renew([]);
      world.feed({ type: "tick" });
    }
    expect(world.agents.get(proc.identity)!.status).toBe("stalled");
    // A report of another run vouches for nothing; the run's own does.
    const heardAt = world.liveness.get(proc.identity)!.heartbeatAt;
    renew([{ identity: proc.identity, run: `${proc.bead}.9` }]);
    expect(world.liveness.get(proc.identity)!.heartbeatAt).toBe(heardAt);
    expect((renew([{ identity: proc.identity, run: proc.run }]) as Transition).reply).toEqual({ state: "held", epoch: a.epoch });
    expect(world.agents.get(proc.identity)!.status).toBe("working");
    // Alive but printing nothing: nudged (hung); a renewal whose quiet_ms is short is progress.
    for (let t = 0; t <= CONFIG.idleMs; t += 100) {
      world.now += 100;
      renew([{ identity: proc.identity, run: proc.run }]);
      world.feed({ type: "tick" });
    }
    expect(world.agents.get(proc.identity)!.status).toBe("hung");
    renew([{ identity: proc.identity, run: proc.run, quietMs: 0 }]);
    expect(world.agents.get(proc.identity)!.status).toBe("working");
    // A stale epoch, none from the holder's socket, or the holder's epoch from another socket: LEASE_LOST.
    expect((renew([], 99) as ToolError).code).toBe("LEASE_LOST");
    expect((renew([], null) as ToolError).code).toBe("LEASE_LOST");
    const b = world.containers[1]!;
    world.connect(b);
    expect((renew([], null, b.connection) as Transition).reply).toEqual({ state: "standby" });
    expect((world.feed({ type: "container_renew", connection: "conn-other", epoch: a.epoch, agents: [] }) as ToolError).code).toBe("LEASE_LOST");
    // Over HTTP (no socket) the epoch alone is checked.
    expect((renew([], a.epoch, null) as Transition).reply).toEqual({ state: "held", epoch: a.epoch });
  });

  it("W6: nobody is blamed while the holder reconnects (no run declared dead, no merge asked again), and nothing is dispatched until a connected holder serves the rig", () => {
    const { world, a, proc } = oneRun();
    // Renewed, the run silent for most of its heartbeat timeout…
    for (let t = 0; t < CONFIG.heartbeatTimeoutMs * 0.9; t += 100) {
      world.now += 100;
      world.feed({ type: "container_renew", connection: a.connection, epoch: a.epoch, agents: [] });
      world.feed({ type: "tick" });
    }
    // …then the holder drops: past the timeout, the run is not judged while it is away.
    world.disconnect(a);
    for (let t = 0; t < CONFIG.heartbeatTimeoutMs * 0.4; t += 100) world.tick(100);
    expect(world.lease.holder).toMatchObject({ container: "ca", connection: null });
    expect(world.agents.get(proc.identity)!.status).not.toBe("dead");
    expect(world.beads.get(proc.bead)!.status).toBe("in_progress");
    // No container connected: a new bead waits open.
    world.create();
    const waiting = [...world.beads.values()].find((b) => b.id !== proc.bead)!;
    expect(waiting.status).toBe("open");
    // The holder is back: its run's clock starts again, and the waiting bead is dispatched.
    world.connect(a);
    world.tick(100);
    expect(world.agents.get(proc.identity)!.status).not.toBe("dead");
    expect(world.beads.get(waiting.id)!.status).toBe("in_progress");

    // A merge whose deadline passes while the holder is away is not asked again.
    const merge = oneRun();
    merge.world.done(0, false);
    const review = merge.world.beads.get(merge.proc.bead)!;
    expect(review).toMatchObject({ status: "in_review", mergeTries: 1 });
    for (let t = 0; t < CONFIG.mergeTimeoutMs / 2; t += 100) {
      merge.world.now += 100;
      merge.world.feed({ type: "container_renew", connection: merge.a.connection, epoch: merge.a.epoch, agents: [] });
      merge.world.feed({ type: "tick" });
    }
    merge.world.disconnect(merge.a);
    while (merge.world.now <= review.until! + 100) merge.world.tick(100);
    expect(merge.world.lease.holder?.container).toBe("ca");
    expect(merge.world.beads.get(merge.proc.bead)).toMatchObject({ status: "in_review", mergeTries: 1 });
  });

  it("W9: a stop not acknowledged within GT_STOP_TIMEOUT_MS is given up: the run cleared, the agent dead; its bead was returned when the stop was decided", () => {
    const { world, a, proc } = oneRun();
    world.feed({ type: "operator_restart_agent", identity: proc.identity, reason: "stuck" });
    const stopping = world.agents.get(proc.identity)!;
    expect(stopping).toMatchObject({ status: "stopping", run: { id: proc.run, state: "stopping" } });
    // Returned at once (and dispatched again to another polecat), no attempt counted.
    const bead = world.beads.get(proc.bead)!;
    expect(bead.assignee).not.toBe(proc.identity);
    expect(bead.attempts ?? 0).toBe(0);
    // The container renews but never acknowledges the stop.
    for (let t = 0; t <= CONFIG.stopTimeoutMs; t += 100) {
      world.now += 100;
      world.renew(a);
      world.feed({ type: "tick" });
      if (t + 100 < CONFIG.stopTimeoutMs) expect(world.agents.get(proc.identity)!.status).toBe("stopping");
    }
    const given = world.agents.get(proc.identity)!;
    expect(given.status).toBe("dead");
    expect(given.run).toBeUndefined();
    expect(given.lastExit).toBe(`stop not acknowledged in ${Math.round(CONFIG.stopTimeoutMs / 1000)} s`);
    expect(world.beads.get(proc.bead)!.attempts ?? 0).toBe(0);
  });
});
