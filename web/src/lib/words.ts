/** Words the dashboard puts next to numbers and names, so they read right ("1 polecat", rig names). */
import type { Agent, AgentStatus, Rig } from "../../../party/protocol.ts";

/** "1 polecat", "0 polecats", "2 escalations"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A rig's polecats by status, never the witness and refinery: counted from the rig's agents when
 * its document is at hand (the live truth), else the rig room's count in the town summary, else
 * null (not known: say nothing rather than count the witness and refinery as workers).
 */
export function polecatCounts(rig: Rig, agents?: readonly Agent[]): Partial<Record<AgentStatus, number>> | null {
  if (agents) {
    const counts: Partial<Record<AgentStatus, number>> = {};
    for (const a of agents) if (a.role === "polecat") counts[a.status] = (counts[a.status] ?? 0) + 1;
    return counts;
  }
  return rig.summary.polecats ?? null;
}

/** "up to 3 polecats", or "1 of 2 polecats working · up to 3" once there are some. */
export function polecatLine(counts: Partial<Record<AgentStatus, number>> | null, max: number): string {
  const total = sum(counts);
  if (!counts || total === 0) return `up to ${plural(max, "polecat")}`;
  return `${counts.working ?? 0} of ${plural(total, "polecat")} working · up to ${max}`;
}

export const sum = (counts: Partial<Record<string, number>> | null | undefined): number =>
  Object.values(counts ?? {}).reduce<number>((a, n) => a + (n ?? 0), 0);

/**
 * A path or text with rig ids (ULIDs in worktree paths such as `/rigs/01J…/polecats/toast`) shown
 * as the rig's name, which is what a person knows it by.
 */
export function withRigNames(text: string, rigs: readonly Pick<Rig, "id" | "name">[]): string {
  let out = text;
  for (const rig of rigs) if (out.includes(rig.id)) out = out.split(rig.id).join(rig.name);
  return out;
}

/**
 * What of the rig boundary does not hold for a rig's agents, in words, or null when its container
 * enforces all of it or has not said yet (then the dashboard claims nothing either way).
 */
export function boundaryGap(rig: Pick<Rig, "summary">): string | null {
  const b = rig.summary.boundary;
  if (!b || (b.processes && b.network)) return null;
  const what = [!b.processes && "other processes", !b.network && "local services"].filter(Boolean).join(" and ");
  return `Agents of this rig can reach ${what}: ${b.missing.join("; ") || "the container did not say why"}`;
}
