/** The witness's judgement of working agents (DESIGN §7 "Witness"), as a pure function. */
import type { Agent, AgentStatus } from "./protocol.ts";

export type Verdict = { identity: string; status: Extract<AgentStatus, "working" | "stalled" | "dead">; silentMs: number };

/**
 * A working agent silent for more than half the timeout is `stalled` (shown, still its bead's
 * owner); past the whole timeout it is `dead` and its bead goes back to `open`. Only verdicts that
 * change an agent's status are returned. `since` is the last heartbeat, or when the witness
 * started watching (a restarted room gives every agent a full timeout).
 */
export function judge(agents: Iterable<Agent>, since: (identity: string) => number, now: number, timeoutMs: number): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const agent of agents) {
    if (agent.status !== "working" && agent.status !== "stalled") continue;
    const silentMs = now - since(agent.identity);
    const status = silentMs > timeoutMs ? "dead" : silentMs > timeoutMs / 2 ? "stalled" : "working";
    if (status !== agent.status) verdicts.push({ identity: agent.identity, status, silentMs });
  }
  return verdicts;
}
