/**
 * Polecats' runs: signs of life (W4), the container's acknowledgements of starts and exits, the
 * witness's deadlines (W7 dead, W8 hung, W9 stops given up) and the operator's stop and restart
 * (W15). A run lives from dispatch (dispatch.ts) until its process is known to be gone.
 */
import { ToolError, type Agent, type Bead, type BeadStatus, type Nudge } from "../protocol.ts";
import { returned } from "./attempts.ts";
import { countUsage } from "./budget.ts";
import type { EventOf } from "./events.ts";
import type { Overlay } from "./overlay.ts";
import { clearRun, failed, reopen, runCommand } from "./records.ts";
import type { Liveness } from "./types.ts";
import { runs as say } from "./words.ts";

export function requireAgent(tx: Overlay, identity: string): Agent {
  const agent = tx.agent(identity);
  if (!agent) throw new ToolError("UNKNOWN_AGENT", `no agent ${identity} in rig ${tx.config.rigName}`);
  return agent;
}

/** The agent whose live run works on this bead, if any (W0: at most one). */
export function owner(tx: Overlay, beadId: string): Agent | undefined {
  for (const agent of tx.allAgents()) if (agent.run && agent.run.state !== "stopping" && agent.run.bead === beadId) return agent;
  return undefined;
}

/** W4: a heartbeat (and, for the agent's own calls, progress) for the current run; `run` from the agent's token. */
export function heard(tx: Overlay, identity: string, progress: boolean, run?: string): void {
  const agent = tx.agent(identity);
  if (!agent?.run || agent.run.state === "stopping" || (run !== undefined && run !== agent.run.id)) return;
  const live = tx.liveness(identity) ?? { heartbeatAt: tx.now, progressAt: tx.now };
  tx.setLive(identity, { ...live, heartbeatAt: tx.now });
  if (agent.status === "stalled") tx.setAgent({ ...agent, status: "working" });
  if (progress && agent.run.state === "running") progressed(tx, tx.agent(identity)!, tx.now);
}

/**
 * Progress made at `at` (W8). Only progress later than the nudge answers it (later than its delivery,
 * once delivered): the nudge is cleared and a hung agent is working again. A renewal that vouches
 * for a silent run reports the same old output again and again (its quiet_ms grows with the time),
 * which is never later than the nudge: the nudge stays.
 */
export function progressed(tx: Overlay, agent: Agent, at: number): void {
  const live = tx.liveness(agent.identity)!;
  const next: Liveness = { ...live, progressAt: Math.max(live.progressAt, at) };
  const mark = live.deliveredAt ?? live.nudgedAt;
  if (mark !== undefined && at > mark) {
    delete next.nudgedAt;
    delete next.deliveredAt;
    if (agent.status === "hung") tx.setAgent({ ...agent, status: "working" });
  }
  tx.setLive(agent.identity, next);
}

/** W8: whether a nudge waits for this run, to go out on the reply to the agent's next tool call. */
export function nudgeWaiting(live: Liveness | undefined): boolean {
  return live?.nudgedAt !== undefined && live.deliveredAt === undefined;
}

/**
 * W4, W8: a tool call of the agent's own. A nudge waiting for its run goes out on the reply of a
 * call that can carry it (`deliver`): that call is the nudge's delivery, a heartbeat but not its
 * answer (what the agent does after reading it is). Any other call is a heartbeat and progress.
 */
export function activity(tx: Overlay, event: EventOf<"agent_activity">): Nudge | null {
  const agent = tx.agent(event.identity);
  const run = agent?.run;
  const live = tx.liveness(event.identity);
  const waiting = run?.state === "running" && (event.run === undefined || event.run === run.id) && nudgeWaiting(live);
  if (!event.deliver || !waiting || !agent || !run || !live) {
    heard(tx, event.identity, true, event.run);
    return null;
  }
  heard(tx, agent.identity, false, event.run);
  tx.setLive(agent.identity, { ...tx.liveness(agent.identity)!, deliveredAt: tx.now });
  const idle = tx.now - live.progressAt;
  // After the delivery the run has GT_AGENT_IDLE_MS to answer, unless the ceiling comes first.
  const stopIn = Math.max(0, Math.min(tx.config.idleMs, live.progressAt + tx.config.ceilingMs - tx.now));
  const bead: Bead | undefined = tx.bead(run.bead);
  tx.feed("witness", say.nudgeDeliveredLine(agent.identity, idle), { agent: agent.identity, bead: run.bead, nudge: "delivered" });
  return {
    from: say.witness(tx.config.rigName),
    at: live.nudgedAt!,
    subject: say.nudgeSubject(idle),
    body: say.nudgeBody(run.bead, bead?.title, idle, stopIn),
  };
}

/** The container started the run's process; a run the room took back meanwhile is `stale` (the container kills it). */
export function started(tx: Overlay, event: EventOf<"agent_started">): { stale: boolean } {
  const agent = requireAgent(tx, event.identity);
  const run = agent.run;
  const current = run && run.state === "starting" && run.bead === event.beadId && (event.run === undefined || event.run === run.id);
  if (!current || !run) return { stale: true };
  const next: Agent = { ...agent, status: "working", run: { ...run, state: "running", since: tx.now } };
  if (event.pid !== undefined) next.pid = event.pid;
  tx.setAgent(next);
  tx.setLive(agent.identity, { heartbeatAt: tx.now, progressAt: tx.now });
  if (event.run !== undefined) tx.last({ kind: "run_started", identity: agent.identity, run: event.run });
  return { stale: false };
}

/**
 * W11: only the exit of the agent's current run touches it or its bead; an earlier run's exit is
 * history (its output's record notes it, as it notes every reported exit, after the step's own note).
 */
export function exited(tx: Overlay, event: EventOf<"agent_exited">): { agent: Agent; bead_status: BeadStatus | null } {
  const agent = requireAgent(tx, event.identity);
  const run = agent.run;
  const current = run && (event.run !== undefined ? event.run === run.id : event.beadId === undefined || event.beadId === run.bead);
  if (current && run) {
    if (run.state === "stopping") {
      const next: Agent = { ...agent, status: agent.status === "dead" ? "dead" : "idle", lastExit: say.stoppedExit(event.exit, run.reason), lastRun: run.id };
      clearRun(next);
      tx.setAgent(next);
      tx.setLive(agent.identity, null);
    } else {
      // Ended before gt_done: a failure of this bead's run, unless the process was lost with its supervisor.
      endRun(tx, agent, "idle", event.exit, event.lost !== true, say.exitedNote(agent.identity, event.exit), true);
      tx.feed("agent", say.exitedLine(agent.identity, event.exit, run.bead), { tone: "warn", agent: agent.identity, bead: run.bead });
    }
  } else if (event.run !== undefined && event.run === agent.lastRun && agent.lastExit === say.handedIn) {
    // The exit of the run that handed its bead in (gt_done ended it, its process exits after): how
    // the agent's last run ended. An earlier run's late report is not, and changes nothing here.
    tx.setAgent({ ...agent, lastExit: event.exit });
  }
  const beadId = event.beadId ?? run?.bead;
  // What the run used counts once, whichever run it was (a run that handed its bead in exits after gt_done), W22.
  if (event.usage && event.run !== undefined && !event.counted) countUsage(tx, agent.identity, event.run, beadId ?? beadOfRun(event.run), event.usage);
  if (event.run !== undefined) tx.last({ kind: "run_ended", identity: agent.identity, run: event.run, exit: event.exit, create: run?.id === event.run });
  const bead = beadId ? tx.bead(beadId) : undefined;
  return { agent: tx.agent(agent.identity)!, bead_status: bead?.status ?? null };
}

/**
 * Ends a run that did not finish: the bead goes back to open (an attempt counted when `counts`),
 * or fails at the last attempt. `acked`: the process is gone already; otherwise it is stopped.
 */
export function endRun(tx: Overlay, agent: Agent, status: "idle" | "dead" | "stopping", exit: string, counts: boolean, note: string, acked = false): void {
  const run = agent.run!;
  const next: Agent = { ...agent, status, lastExit: exit, lastRun: run.id };
  if (acked) {
    clearRun(next);
    tx.setLive(agent.identity, null);
  } else {
    next.run = { ...run, state: "stopping", since: tx.now, reason: exit };
    delete next.hook;
    delete next.branch;
  }
  tx.setAgent(next);
  const bead = tx.bead(run.bead);
  if (bead?.status === "in_progress" && bead.assignee === agent.identity) returned(tx, bead, note, counts);
  if (!acked) tx.effect({ kind: "command", command: runCommand(next)! });
}

/** The agent's live run is being stopped: a stop is owed, and the agent is busy until it is acknowledged (W9). */
export function stopRun(tx: Overlay, agent: Agent, reason: string): void {
  const run = agent.run!;
  if (run.state === "stopping") return;
  const next: Agent = { ...agent, status: "stopping", run: { ...run, state: "stopping", since: tx.now, reason } };
  delete next.hook;
  delete next.branch;
  tx.setAgent(next);
  tx.setLive(agent.identity, null);
  tx.effect({ kind: "command", command: runCommand(next)! });
}

/**
 * W15: an operator ends an agent's live run. `stop`: its bead fails (to retry or move later);
 * `restart`: its bead goes back to open and is dispatched again. Neither counts an attempt (W11).
 */
export function stopAgent(tx: Overlay, identity: string, how: "stop" | "restart", reason?: string): Agent {
  const agent = requireAgent(tx, identity);
  const run = agent.run;
  if (!run) throw new ToolError("CONFLICT", `${identity} has no run to ${how}`);
  if (run.state === "stopping") throw new ToolError("CONFLICT", `${identity}'s run ${run.id} is being stopped already (${run.reason ?? "stop"})`);
  const why = say.byOperator(how, reason);
  const bead = tx.bead(run.bead);
  stopRun(tx, agent, why);
  if (bead?.status === "in_progress" && bead.assignee === identity) {
    if (how === "stop") {
      tx.setBead(failed(bead, tx.now, why));
      tx.feed("failed", say.operatorFailedLine(bead.id, identity, why), { agent: identity, bead: bead.id });
    } else {
      tx.setBead(reopen(bead, tx.now, say.operatorNote(identity, why)));
    }
  }
  tx.feed("agent", say.operatorNote(identity, why), { agent: identity, bead: bead?.id });
  return tx.agent(identity)!;
}

/** Run ids are `<bead id>.<n>`. */
function beadOfRun(run: string): string {
  return run.slice(0, run.lastIndexOf("."));
}

/** The runs' deadlines (W7, W8, W9), judged only while the lease holder is connected (W6, lease.ts). */
export function runDeadlines(tx: Overlay): void {
  const { now, config } = tx;
  for (const agent of [...tx.allAgents()]) {
    const run = agent.run;
    if (!run) continue;
    if (run.state === "stopping") {
      if (now - run.since > config.stopTimeoutMs) {
        // W9: a stop never acknowledged is given up; the process is the container's to clean.
        const next: Agent = { ...agent, status: "dead", lastExit: say.stopGivenUp(config.stopTimeoutMs), lastRun: run.id };
        clearRun(next);
        tx.setAgent(next);
        tx.feed("dead", say.stopGivenUpLine(agent.identity), { agent: agent.identity, bead: run.bead });
      }
      continue;
    }
    const live = tx.liveness(agent.identity);
    if (!live) continue;
    const silent = now - live.heartbeatAt;
    if (silent > config.heartbeatTimeoutMs) {
      // W7: the holder renews but no longer vouches for this run: its process is gone.
      const why = say.silent(silent);
      endRun(tx, agent, "dead", why, run.state === "running", say.deadNote(agent.identity, why));
      tx.feed("dead", say.deadLine(agent.identity, why), { agent: agent.identity, bead: run.bead });
      continue;
    }
    if (silent > config.heartbeatTimeoutMs / 2 && agent.status === "working") {
      tx.setAgent({ ...agent, status: "stalled" });
      tx.feed("stalled", say.stalledLine(agent.identity, silent), { agent: agent.identity, bead: run.bead });
    }
    if (run.state !== "running") continue;
    const idle = now - live.progressAt;
    // W8: hung: alive, but no output and no tool call of its own. Stopped at the ceiling whether or
    // not a nudge could reach it, or once a delivered nudge went unanswered for GT_AGENT_IDLE_MS.
    const unanswered = live.deliveredAt !== undefined && now - live.deliveredAt > config.idleMs;
    if (idle > config.ceilingMs || unanswered) {
      const why = unanswered && idle <= config.ceilingMs ? say.unanswered(idle, now - live.deliveredAt!) : say.idle(idle);
      endRun(tx, agent, "stopping", say.hung(why), true, say.hung(why));
      tx.feed("hung", say.hungLine(agent.identity, why), { tone: "bad", agent: agent.identity, bead: run.bead });
    } else if (idle > config.idleMs && live.nudgedAt === undefined) nudge(tx, agent, live, idle);
  }
}

/**
 * W8: the first time a run makes no progress for GT_AGENT_IDLE_MS, the witness nudges it once. The
 * nudge is no mail: it waits for the run, to go out on the reply to the agent's next tool call.
 */
function nudge(tx: Overlay, agent: Agent, live: Liveness, idle: number): void {
  const run = agent.run!;
  tx.setLive(agent.identity, { ...live, nudgedAt: tx.now });
  tx.setAgent({ ...(tx.agent(agent.identity) ?? agent), status: "hung" });
  tx.feed("hung", say.nudgedLine(agent.identity, idle), { agent: agent.identity, bead: run.bead, nudge: "sent" });
}
