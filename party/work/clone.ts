/**
 * The rig's own records: its creation (cloning, with its witness and refinery), its clone reported
 * by the container (W20: cloning → ready | error; dispatch waits for ready, W6), its size, and the
 * polecats the container registers.
 */
import { polecatIdentity, type Agent, type AgentRole } from "../protocol.ts";
import type { EventOf, Replies } from "./events.ts";
import { requireEpoch } from "./lease.ts";
import type { Overlay } from "./overlay.ts";
import type { FeedKind, RigState } from "./types.ts";
import { rig as say } from "./words.ts";

/** A new rig: its clone not made yet, its witness and refinery idle. */
export function createRig(name: string, maxPolecats: number): { rig: RigState; agents: Agent[]; feed: { feed: FeedKind; text: string } } {
  const roles: AgentRole[] = ["witness", "refinery"];
  return {
    rig: { status: "cloning", maxPolecats },
    agents: roles.map((role) => ({ identity: `${name}/${role}`, role, name: role, status: "idle" })),
    feed: { feed: "rig", text: say.created(name) },
  };
}

function requireRig(tx: Overlay): RigState {
  const rig = tx.rig;
  if (!rig) throw new Error("the rig's state was not given to the step");
  return rig;
}

/**
 * W20: the container reports its clone, ready (with its disk use and the boundary it enforces) or
 * failed. Only the lease holder serves the rig; without the lease a container may only say that it
 * cannot serve it. Dispatch follows, in a step of its own.
 */
export function cloneReported(tx: Overlay, event: EventOf<"clone_reported">): Replies["clone_reported"] {
  if (event.epoch !== undefined || !event.error) requireEpoch(tx.lease, event.epoch);
  const rig = requireRig(tx);
  const status = event.error ? "error" : "ready";
  const next: RigState = {
    ...rig,
    status,
    ...(event.diskBytes !== undefined ? { diskBytes: event.diskBytes } : {}),
    ...(event.boundary ? { boundary: event.boundary } : {}),
  };
  if (event.error) {
    next.error = event.error;
    next.errorAt = rig.status === "error" ? (rig.errorAt ?? tx.now) : tx.now;
  } else {
    delete next.error;
    delete next.errorAt;
  }
  tx.setRig(next);
  if (status !== rig.status) {
    if (event.error) tx.feed("rig", say.unusable(event.error), { tone: "bad" });
    else tx.feed("rig", say.ready(tx.config.rigName), { tone: "good" });
  }
  tx.then = "dispatch";
  return { status, diskBytes: next.diskBytes ?? null };
}

/** The town changed the rig's size: dispatch follows, in a step of its own. */
export function resize(tx: Overlay, maxPolecats: number): null {
  const rig = requireRig(tx);
  if (rig.maxPolecats === maxPolecats) return null;
  tx.setRig({ ...rig, maxPolecats });
  tx.feed("rig", say.resized(rig.maxPolecats, maxPolecats));
  tx.then = "dispatch";
  return null;
}

/** A polecat the container registers: idle, once. */
export function register(tx: Overlay, name: string): Agent {
  const identity = polecatIdentity(tx.config.rigName, name);
  const existing = tx.agent(identity);
  if (existing) return existing;
  const agent: Agent = { identity, role: "polecat", name, status: "idle" };
  tx.setAgent(agent);
  tx.feed("agent", say.registered(identity));
  return agent;
}
