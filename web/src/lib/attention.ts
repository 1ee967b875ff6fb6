/**
 * The attention lane's rows: every rig's `summary.attention` (the town document already has them,
 * so the overview needs no rig socket), worst first across rigs, each with where it lives.
 */
import { convoyAttention, rankOf } from "../../../party/attention.ts";
import type { AttentionItem, Convoy, Rig } from "../../../party/protocol.ts";

export type Lane = { rig: Rig; item: AttentionItem; href: string; key: string };

/** How bad, lower first: party/attention.ts's ranks, the order each rig's list already has, so merging rigs keeps it. */
export const rank = rankOf;

function assertNever(x: never): never {
  throw new Error(`unknown attention kind ${String(x)}`);
}

/** The last part of an identity: `backend/polecats/toast` → `toast`, the agent page's name. */
export const agentName = (identity: string) => identity.split("/").pop() ?? identity;

export function itemHref(base: string, rig: Rig, item: AttentionItem): string {
  const rigBase = `${base}/rigs/${encodeURIComponent(rig.name)}`;
  switch (item.kind) {
    case "failed_bead":
      return `${rigBase}/beads/${item.id}`;
    case "agent":
      return `${rigBase}/agents/${agentName(item.id)}`;
    case "waiting_mail":
      return `${rigBase}/agents/${agentName(item.id)}#inbox`;
    case "escalation":
      return `${rigBase}#escalation-${item.id}`;
    case "rig_error":
    case "budget":
      return rigBase;
    case "stuck_convoy":
      return `${base}/convoys/${item.id}`;
    default:
      return assertNever(item.kind);
  }
}

/**
 * Every rig's items, and the town's stuck convoys (`convoys`: the town document's), each convoy shown
 * with the rig of its first failed bead that still exists (where the retry, move or close happens).
 */
export function laneOf(base: string, rigs: Rig[], convoys: Iterable<Convoy> = []): Lane[] {
  const rows: Lane[] = [];
  for (const rig of rigs) {
    for (const item of rig.summary.attention ?? []) rows.push({ rig, item, href: itemHref(base, rig, item), key: `${rig.id}:${item.kind}:${item.id}` });
  }
  const stuck = [...convoys];
  for (const item of convoyAttention(stuck)) {
    const convoy = stuck.find((c) => c.id === item.id)!;
    const rig = convoy.beads.filter((b) => b.status === "failed").flatMap((b) => rigs.filter((r) => r.id === b.rigId))[0];
    if (rig) rows.push({ rig, item, href: itemHref(base, rig, item), key: `convoy:${item.id}` });
  }
  // The worst first; among equals the newest (the operator has seen the older ones already).
  return rows.sort((a, b) => rank(a.item) - rank(b.item) || b.item.at - a.item.at || a.key.localeCompare(b.key));
}

/** The bead an item is about, where there is one: a failed bead is its own; other kinds say when they carry one. */
export function beadOf(item: AttentionItem): string | undefined {
  return item.kind === "failed_bead" ? item.id : item.beadId;
}

/**
 * One occurrence of an item: the same item raised again (a new `at`) is a new occurrence, so a
 * snooze or a notification about the old one does not cover it.
 */
export const occurrence = (row: Pick<Lane, "key" | "item">): string => `${row.key}@${row.item.at}`;

/** An agent item's state, read from its detail ("hung: no output…"). */
export function agentState(item: AttentionItem): "dead" | "hung" | "stalled" | undefined {
  return /^(dead|hung|stalled)\b/.exec(item.detail)?.[1] as "dead" | "hung" | "stalled" | undefined;
}

/**
 * What makes items duplicates: the same rig, kind and title (escalations also the same severity).
 * An agent's title is its own identity, so one rig's agents group by their state instead ("3 agents
 * hung"). Rigs stay apart: the row says which rig, and its actions act on that rig.
 */
export function groupKey(row: Lane): string {
  const { item } = row;
  const what = item.kind === "agent" ? (agentState(item) ?? "agent") : item.kind === "escalation" ? `${item.severity ?? "medium"}:${item.title}` : item.title;
  return `${row.rig.id}:${item.kind}:${what}`;
}

export type LaneGroup = {
  key: string;
  /** Its members, in lane order (worst, then newest, first). */
  rows: Lane[];
  /** What the members share: their title, or "3 agents hung". */
  title: string;
};

/** The lane's rows with duplicates together, each group where its worst member was; order kept inside. */
export function groupLane(rows: Lane[]): LaneGroup[] {
  const groups = new Map<string, LaneGroup>();
  for (const row of rows) {
    const key = groupKey(row);
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { key, rows: [row], title: row.item.title });
  }
  for (const group of groups.values()) {
    const first = group.rows[0]!.item;
    if (first.kind === "agent" && group.rows.length > 1) group.title = `${group.rows.length} agents ${agentState(first) ?? "need you"}`;
  }
  return [...groups.values()];
}
