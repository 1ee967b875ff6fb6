/**
 * The attention lane's rows: every rig's `summary.attention` (the town document already has them,
 * so the overview needs no rig socket), worst first across rigs, each with where it lives.
 */
import type { Rig, Severity } from "../../../party/protocol.ts";
import type { AttentionItem, SummaryNext } from "./protocol-next.ts";

export type Lane = { rig: Rig; item: AttentionItem; href: string; key: string };

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 3, low: 5 };

/**
 * How bad, lower first: a critical escalation, then a rig that cannot work at all, failed beads,
 * agents that stopped making progress, lesser escalations, and mail nobody will read.
 */
export function rank(item: AttentionItem): number {
  switch (item.kind) {
    case "escalation":
      return SEVERITY_RANK[item.severity ?? "medium"] + 0.5;
    case "rig_error":
      return 1;
    case "failed_bead":
      return 2;
    case "agent":
      return 2.5;
    case "waiting_mail":
      return 4;
    default:
      return assertNever(item.kind);
  }
}

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
      return rigBase;
    default:
      return assertNever(item.kind);
  }
}

export function laneOf(base: string, rigs: Rig[]): Lane[] {
  const rows: Lane[] = [];
  for (const rig of rigs) {
    for (const item of (rig.summary as SummaryNext).attention ?? []) rows.push({ rig, item, href: itemHref(base, rig, item), key: `${rig.id}:${item.kind}:${item.id}` });
  }
  // The worst first; among equals the one waiting longest.
  return rows.sort((a, b) => rank(a.item) - rank(b.item) || a.item.at - b.item.at || a.key.localeCompare(b.key));
}
