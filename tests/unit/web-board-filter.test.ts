/** The rig board's filters and sort as kept in the address (web/src/lib/board-filter.ts). */
import { describe, expect, it } from "vitest";
import type { Bead } from "../../party/protocol.ts";
import { NO_FILTER, boardQuery, compareBeads, matches, parseBoardQuery, shownStatuses } from "../../web/src/lib/board-filter.ts";

const bead = (id: string, extra: Partial<Bead> = {}): Bead =>
  ({ id, title: `Bead ${id}`, body: "", status: "open", priority: "medium", createdAt: 1, updatedAt: 1, requires: [], attempts: 0, ...extra }) as Bead;

describe("board filters in the address", () => {
  it("round-trips through the query, leaving defaults out", () => {
    const filter = { status: ["failed", "open"], priority: ["high"], assignee: "a/polecats/toast", q: "parser", sort: "updated" } as const;
    const query = boardQuery({ ...filter, status: [...filter.status], priority: [...filter.priority] });
    expect(query).toEqual({ status: "failed,open", priority: "high", assignee: "a/polecats/toast", q: "parser", sort: "updated" });
    expect(parseBoardQuery(query as Record<string, string>)).toEqual({ ...filter, status: ["failed", "open"], priority: ["high"] });
    expect(boardQuery(NO_FILTER)).toEqual({ status: undefined, priority: undefined, assignee: undefined, q: undefined, sort: undefined });
  });

  it("drops values it does not know instead of guessing", () => {
    expect(parseBoardQuery({ status: "open,bogus,open", priority: "urgent", sort: "random" })).toEqual({ ...NO_FILTER, status: ["open"] });
  });

  it("matches priority, assignee (or nobody) and text in title, id or body; statuses pick the columns in board order", () => {
    const a = bead("A1", { priority: "high", assignee: "r/polecats/toast", title: "Fix the parser" });
    const b = bead("B2", { body: "the PARSER again" });
    const f = (change: object) => ({ ...NO_FILTER, ...change });
    expect([a, b].filter((x) => matches(x, f({ q: "parser" })))).toEqual([a, b]);
    expect([a, b].filter((x) => matches(x, f({ priority: ["high"] })))).toEqual([a]);
    expect([a, b].filter((x) => matches(x, f({ assignee: "none" })))).toEqual([b]);
    expect([a, b].filter((x) => matches(x, f({ assignee: "r/polecats/toast", q: "b2" })))).toEqual([]);
    expect(shownStatuses(f({ status: ["failed", "open"] }))).toEqual(["open", "failed"]);
    expect(shownStatuses(NO_FILTER)).toHaveLength(5);
  });

  it("sorts by priority (default), latest change, newest or title", () => {
    const beads = [
      bead("A", { priority: "low", updatedAt: 9, createdAt: 1, title: "b" }),
      bead("B", { priority: "critical", updatedAt: 1, createdAt: 5, title: "a" }),
    ];
    const order = (sort: "priority" | "updated" | "created" | "title") => [...beads].sort(compareBeads(sort)).map((x) => x.id);
    expect(order("priority")).toEqual(["B", "A"]);
    expect(order("updated")).toEqual(["A", "B"]);
    expect(order("created")).toEqual(["B", "A"]);
    expect(order("title")).toEqual(["B", "A"]);
  });
});
