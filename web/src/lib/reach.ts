/**
 * What a session may read beyond documents, as party/access.ts decides it (the rooms enforce it;
 * the dashboard says so instead of waiting for an answer that never comes).
 */
import type { Session } from "./session.ts";

/**
 * What of the town a session reads: all of it; the `scope` document (a convoy link: `convoy`; a
 * rig-scoped operator: its rig and its convoys); or one rig's document alone.
 */
export type Reach = { kind: "town" } | { kind: "scope"; convoy?: string; rig?: string } | { kind: "rig"; rigId: string };

export function reachOf(session: Session): Reach {
  const view = session.view;
  if (view?.kind === "rig" || view?.kind === "bead" || view?.kind === "agent") return { kind: "rig", rigId: view.rig };
  if (view?.kind === "convoy") return { kind: "scope", convoy: view.convoy };
  if (view) return { kind: "town" };
  if (session.rig) return session.role === "operator" ? { kind: "scope", rig: session.rig } : { kind: "rig", rigId: session.rig };
  return { kind: "town" };
}

/** The town's mail document: town-wide operators, and links made for the mail view. */
export function readsTownMail(session: Session): boolean {
  if (session.view) return session.view.kind === "mail";
  return session.role === "operator" && !session.rig;
}

/**
 * Agents' output in a rig: its operators all of it; an agent link that agent's; a bead link that
 * bead's runs (read on the bead's page, not an agent's).
 */
export function readsOutput(session: Session, rigId: string, about: { agent: string } | { bead: string }): boolean {
  if (session.role === "operator") return !session.rig || session.rig === rigId;
  const view = session.view;
  if (view?.kind === "agent") return view.rig === rigId && "agent" in about && about.agent === view.agent;
  if (view?.kind === "bead") return view.rig === rigId && "bead" in about && about.bead === view.bead;
  return false;
}

/**
 * What a share link made for this address shows, in words (the Share dialog says it before the
 * link is made): party/access.ts grants exactly this, docs/security.md says the same.
 */
export function linkShows(path: string): string {
  const parts = path.replace(/\/$/, "").split("/").slice(3).map(decodeURIComponent);
  const [kind, name, sub, id] = parts;
  const nothingElse = "nothing of other rigs, the town's overview, its convoys or its mail";
  if (kind === "rigs" && name !== undefined) {
    if (sub === "beads" && id) return `rig ${name} only: its board, this bead, its agents and mail, and this bead's runs and output; ${nothingElse}.`;
    if (sub === "agents" && id) return `rig ${name} only: its board, its beads, agents and mail, and agent ${id}'s output; ${nothingElse}.`;
    return `rig ${name} only: its board, beads, agents and mail (no agent's output); ${nothingElse}.`;
  }
  if (kind === "convoys")
    return "this convoy only: its beads and the names of their rigs; no rig's board, no other convoy, nothing of the town's overview or mail.";
  if (kind === "mail") return "the town's mail (the Mayor's and the operator's) and the town's overview: every rig, its convoys and activity.";
  return "the whole town: every rig's overview, all convoys, the activity and spend (not the town's mail, not agents' output).";
}
