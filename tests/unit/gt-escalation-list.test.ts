/** `gt escalation list` and `gt bead history` print what agents read: every note on an escalation, a history page with how to read older ones. */
import { describe, expect, it } from "vitest";
import type { BeadHistoryPage, Escalation } from "../../party/protocol.ts";
import { beadHistory } from "../../container/gt/bead.ts";
import { escalationList } from "../../container/gt/escalation.ts";
import type { GtEnv } from "../../container/gt/env.ts";

const env = {} as GtEnv;

describe("gt escalation list", () => {
  it("prints each escalation with the notes written when it was acknowledged and resolved", () => {
    const e: Escalation = {
      id: "01JAAAAAAAAAAAAAAAAAAAAAAA",
      from: "r/polecats/toast",
      title: "tests need a database",
      body: "",
      severity: "high",
      createdAt: 1_000,
      status: "resolved",
      note: "use the sqlite fixture",
      notes: [
        { at: 2_000, status: "acknowledged", note: "looking for credentials" },
        { at: 3_000, status: "resolved", note: "use the sqlite fixture" },
      ],
    };
    const out = escalationList.print([e], env, {});
    expect(out).toContain("escalation 01JAAAAAAAAAAAAAAAAAAAAAAA resolved (high): tests need a database");
    expect(out).toMatch(/acknowledged .*: looking for credentials/);
    expect(out).toMatch(/resolved .*: use the sqlite fixture/);
    expect(escalationList.print([], env, {})).toBe("no escalations");
  });
});

describe("gt bead history", () => {
  it("prints a page and how to read the older one", () => {
    const page: BeadHistoryPage = { bead_id: "B", total: 26, entries: [{ seq: 6, at: 6_000, status: "open", note: "change 6" }], before: 6 };
    const out = beadHistory.print(page, env, {});
    expect(out).toContain("Bead B: 26 status changes");
    expect(out).toMatch(/ {3}6 .* open — change 6/);
    expect(out).toContain("older: gt bead history --bead B --before 6");
  });
});
