/**
 * The rig board's filters and sort, kept in the address (`?status=open,failed&assignee=…&priority=high&q=parser&sort=updated`)
 * so a filtered board survives a reload and can be shared. Pure: parsing a query, writing one back,
 * and applying it to beads. Unknown values are dropped, not guessed at.
 */
import type { Bead, BeadStatus, Priority } from "../../../party/protocol.ts";

export const BOARD_SORTS = ["priority", "updated", "created", "title"] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];
export const SORT_LABEL: Record<BoardSort, string> = {
  priority: "priority, then latest change",
  updated: "latest change",
  created: "newest",
  title: "title",
};

const STATUSES: readonly BeadStatus[] = ["open", "in_progress", "in_review", "closed", "failed"];
const PRIORITIES: readonly Priority[] = ["critical", "high", "medium", "low"];
const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** `assignee`: an agent's identity, or "none" for beads nobody holds; empty lists mean "any". */
export type BoardFilter = { status: BeadStatus[]; priority: Priority[]; assignee: string; q: string; sort: BoardSort };

export const NO_FILTER: BoardFilter = { status: [], priority: [], assignee: "", q: "", sort: "priority" };

/** The query parameters the board owns; others (and there should be no `token`) are left alone. */
export type BoardQuery = { status?: string; priority?: string; assignee?: string; q?: string; sort?: string };

const list = <T extends string>(value: string | undefined, allowed: readonly T[]): T[] =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter((v): v is T => (allowed as readonly string[]).includes(v))
    .filter((v, i, all) => all.indexOf(v) === i);

export function parseBoardQuery(query: BoardQuery): BoardFilter {
  const sort = (BOARD_SORTS as readonly string[]).includes(query.sort ?? "") ? (query.sort as BoardSort) : "priority";
  return {
    status: list(query.status, STATUSES),
    priority: list(query.priority, PRIORITIES),
    assignee: (query.assignee ?? "").trim().slice(0, 120),
    q: (query.q ?? "").slice(0, 200),
    sort,
  };
}

/** The query for a filter: a parameter per thing set, `undefined` (removed from the address) for the defaults. */
export function boardQuery(filter: BoardFilter): Record<keyof BoardQuery, string | undefined> {
  return {
    status: filter.status.length ? filter.status.join(",") : undefined,
    priority: filter.priority.length ? filter.priority.join(",") : undefined,
    assignee: filter.assignee || undefined,
    q: filter.q || undefined,
    sort: filter.sort === "priority" ? undefined : filter.sort,
  };
}

export function isFiltered(filter: BoardFilter): boolean {
  return filter.status.length > 0 || filter.priority.length > 0 || filter.assignee !== "" || filter.q.trim() !== "";
}

/** Whether a bead passes the filter's priority, assignee and text (the status picks columns, see `shownStatuses`). */
export function matches(bead: Bead, filter: BoardFilter): boolean {
  if (filter.priority.length && !filter.priority.includes(bead.priority)) return false;
  if (filter.assignee === "none" ? !!bead.assignee : filter.assignee && bead.assignee !== filter.assignee) return false;
  const q = filter.q.trim().toLowerCase();
  if (q && !`${bead.title}\n${bead.id}\n${bead.body}`.toLowerCase().includes(q)) return false;
  return true;
}

/** The board's columns: the statuses asked for, or every one. */
export function shownStatuses(filter: BoardFilter): BeadStatus[] {
  return filter.status.length ? STATUSES.filter((s) => filter.status.includes(s)) : [...STATUSES];
}

export function compareBeads(sort: BoardSort): (a: Bead, b: Bead) => number {
  switch (sort) {
    case "updated":
      return (a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1);
    case "created":
      return (a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);
    case "title":
      return (a, b) => a.title.localeCompare(b.title) || (a.id < b.id ? -1 : 1);
    default:
      return (a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || b.updatedAt - a.updatedAt;
  }
}
