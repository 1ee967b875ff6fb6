/**
 * W0 — dispatch: which polecat works on which bead. Open beads, most urgent then oldest, go to
 * polecats without a run (by name), then to new polecats named from the pool, never more than
 * `maxPolecats` runs at once nor more than `maxPolecats` polecats in all.
 */
import { PRIORITIES, polecatIdentity, type Agent, type AgentRun, type Bead } from "../protocol.ts";
import { holdDispatch } from "./budget.ts";
import type { Overlay } from "./overlay.ts";
import { runCommand, withStatus } from "./records.ts";
import { beads as say } from "./words.ts";

/** Polecat names, handed out in this order; past the pool, `polecat-<n>`. */
export const POLECAT_POOL = [
  "toast",
  "maple",
  "birch",
  "shadow",
  "ember",
  "juniper",
  "flint",
  "hazel",
  "cinder",
  "willow",
  "pepper",
  "quartz",
  "sable",
  "thistle",
  "rowan",
  "basil",
] as const;

export type Assignment = { beadId: string; identity: string; name: string };

/** Beads waiting for a polecat, most urgent first, then oldest. */
export function queueOrder(beads: Iterable<Bead>): Bead[] {
  const rank = (b: Bead) => PRIORITIES.length - PRIORITIES.indexOf(b.priority);
  return [...beads].filter((b) => b.status === "open").sort((a, b) => rank(a) - rank(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/**
 * Hooks open beads to polecats: those without a run first (a run being stopped still holds its
 * polecat), then new ones named from the pool. Beads beyond the bounds wait, `open`.
 */
export function planDispatch(input: { rigName: string; beads: Iterable<Bead>; agents: Iterable<Agent>; maxPolecats: number }): Assignment[] {
  const polecats = [...input.agents].filter((a) => a.role === "polecat");
  const busy = polecats.filter((a) => a.run !== undefined).length;
  let capacity = Math.max(0, input.maxPolecats - busy);
  if (capacity === 0) return [];
  const free = polecats.filter((a) => a.run === undefined).sort((a, b) => a.name.localeCompare(b.name));
  const taken = new Set(polecats.map((a) => a.name));
  let total = polecats.length;
  const assignments: Assignment[] = [];
  for (const bead of queueOrder(input.beads)) {
    if (capacity === 0) break;
    const reuse = free.shift();
    if (reuse) {
      assignments.push({ beadId: bead.id, identity: reuse.identity, name: reuse.name });
    } else if (total < input.maxPolecats) {
      const name = nextPolecatName(taken);
      taken.add(name);
      total += 1;
      assignments.push({ beadId: bead.id, identity: polecatIdentity(input.rigName, name), name });
    } else {
      break;
    }
    capacity -= 1;
  }
  return assignments;
}

export function nextPolecatName(taken: ReadonlySet<string>): string {
  const pooled = POLECAT_POOL.find((n) => !taken.has(n));
  if (pooled) return pooled;
  for (let n = POLECAT_POOL.length + 1; ; n++) if (!taken.has(`polecat-${n}`)) return `polecat-${n}`;
}

/** `gt/<polecat>/<last 8 of the bead id>`. */
export function branchName(polecat: string, beadId: string): string {
  return `gt/${polecat}/${beadId.slice(-8)}`;
}

/**
 * Hooks open beads to free polecats while a connected container holds the lease and the clone is
 * ready (W6): with nobody to run them, beads wait open, which is the truth, not in_progress for no one.
 * A budget reached holds it first (W22): then too the beads wait open.
 */
export function dispatch(tx: Overlay): void {
  const { config, now } = tx;
  tx.on = "dispatch";
  if (holdDispatch(tx)) return;
  if (!config.ready || !tx.holder?.connection) return;
  const plan = planDispatch({ rigName: config.rigName, beads: tx.allBeads(), agents: tx.allAgents(), maxPolecats: config.maxPolecats });
  for (const { beadId, identity, name } of plan) {
    const bead = tx.bead(beadId)!;
    const existing = tx.agent(identity);
    const runs = (bead.runs ?? 0) + 1;
    const run: AgentRun = { id: `${bead.id}.${runs}`, bead: bead.id, state: "starting", since: now };
    const branch = branchName(name, beadId);
    const worktree = `rigs/${config.rigId}/worktrees/${name}`;
    const agent: Agent = { ...(existing ?? { identity, role: "polecat", name }), status: "working", hook: beadId, branch, worktree, startedAt: now, run };
    delete agent.pid;
    tx.setAgent(agent);
    tx.setBead({ ...withStatus(bead, "in_progress", now, say.hookedNote(identity)), assignee: identity, branch, runs });
    tx.setLive(identity, { heartbeatAt: now, progressAt: now });
    tx.effect({ kind: "command", command: runCommand(agent)! });
    tx.feed("bead", say.hookedLine(identity, beadId, bead.title), { bead: beadId, agent: identity });
  }
}
