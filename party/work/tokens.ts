/**
 * W21 — a run's token: what a process may still do once its run is over. These are rules the room
 * asks before a call runs (no step: nothing changes), on the agents as they are.
 */
import { ToolError, type Agent, type RunInfo } from "../protocol.ts";
import { requireEpoch } from "./lease.ts";
import type { LeaseState } from "./types.ts";

/**
 * A process of a run that is over must not act for the agent's next run: while the agent has
 * another run, its old token may not prime (and read the new hook and mail), checkpoint, or do
 * anything else. gt_done answers such a token itself (a retried done after a lost reply, W10).
 */
export function checkRunToken(agent: Agent | undefined, run: string, tool: string): void {
  if (tool === "gt_done") return;
  const current = agent?.run;
  if (current && current.id !== run) throw new ToolError("FORBIDDEN", `run ${run} is over; ${agent!.identity} works on run ${current.id} now`);
}

/** Why an agent's token is not renewed (gt_token_refresh), or null: a token lives as long as its run. */
export function tokenRenewalRefusal(agent: Agent | undefined, run: string | undefined): string | null {
  if (run === undefined) return "an agent token made for no run is not renewed";
  return agent?.run?.id === run && agent.run.state !== "stopping" ? null : `run ${run} is over: its token is not renewed`;
}

/**
 * The container's batch of an agent's output (gt_agent_output) is taken under the current epoch,
 * for the agent's current run or a run of it already kept (`known`, its record in the output store).
 */
export function checkOutput(
  lease: LeaseState,
  epoch: number,
  rigName: string,
  identity: string,
  agent: Agent | undefined,
  run: string,
  known: RunInfo | undefined,
): void {
  requireEpoch(lease, epoch);
  if (!agent) throw new ToolError("UNKNOWN_AGENT", `no agent ${identity} in rig ${rigName}`);
  if (known ? known.identity !== agent.identity : agent.run?.id !== run) {
    throw new ToolError("CONFLICT", `run ${run} is not ${agent.identity}'s current run, nor a kept run of it`);
  }
}
