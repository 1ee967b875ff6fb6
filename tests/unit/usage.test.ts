/**
 * Usage sums and the town's budget as pure functions (lifecycle W22): the rig's stored sums
 * (party/rig/store/usage.ts: today's totals, 24 hourly buckets, a new UTC day from nothing), the
 * town's daily totals made of the rigs' whole-day notices (party/town/usage.ts: a notice sent again
 * or out of order counts nothing twice, checked under random orders with fast-check), the day's
 * roll, the town's hold, a convoy bead's usage, a bead's model on its way to its rig, and the
 * attention item of a hold.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attentionItems } from "../../party/attention.ts";
import { HOUR_MS } from "../../party/hours.ts";
import type { Convoy, TownUsage, Usage, UsageTotals } from "../../party/protocol.ts";
import { countRun, emptyUsage, rigUsage, spentOf, usageWake } from "../../party/rig/store/usage.ts";
import { applyNotice } from "../../party/town/convoys.ts";
import type { BeadPayload } from "../../party/town/entries.ts";
import { moveSteps } from "../../party/town/move.ts";
import { beadEntries } from "../../party/town/placement.ts";
import { dayLine, dayTotals, emptyTownUsage, holdChanged, townHold, withDay, withRigDay, type DayByRig } from "../../party/town/usage.ts";
import { addUsage, emptyTotals, utcDay } from "../../party/work/index.ts";

const DAY = 86_400_000;
const T = Date.UTC(2026, 11, 8, 10, 30);
const used = (tokens: number, costUsd: number | null): Usage => ({
  model: "m",
  turns: 1,
  inputTokens: tokens,
  outputTokens: 1,
  cacheReadTokens: 2,
  cacheWriteTokens: 3,
  costUsd,
});

describe("the rig's usage sums (party/rig/store/usage.ts)", () => {
  it("W22: counts runs into today's totals and this hour's bucket; a new UTC day starts from nothing; the summary shows 24 hours, oldest first", () => {
    let stored = emptyUsage(T);
    stored = countRun(stored, used(100, 0.5), T);
    stored = countRun(stored, used(10, null), T + 60_000);
    stored = countRun(stored, used(1, 0.25), T - 2 * HOUR_MS);
    expect(stored.totals).toEqual({ runs: 3, inputTokens: 111, outputTokens: 3, cacheReadTokens: 6, cacheWriteTokens: 9, costUsd: 0.75, unpriced: 1 });
    const shown = rigUsage(stored, { budget: { unit: "usd", daily: 2 } }, T);
    expect(shown.day).toBe("2026-12-08");
    expect(shown.costByHour).toHaveLength(24);
    expect(shown.costByHour[23]).toBe(0.5);
    expect(shown.tokensByHour[23]).toBe(106 + 16);
    expect(shown.costByHour[21]).toBe(0.25);
    expect(shown.budget).toEqual({ unit: "usd", daily: 2 });
    expect(shown.hold).toBeUndefined();
    // An hour later the chart has shifted; the summary must be pushed again for it.
    expect(rigUsage(stored, {}, T + HOUR_MS).costByHour[22]).toBe(0.5);
    expect(usageWake(stored, T)).toBe(Math.floor(T / HOUR_MS + 1) * HOUR_MS);
    // The next day: today's spend is nothing, and the first run counted starts the day's totals.
    const tomorrow = T + DAY;
    expect(spentOf(stored, tomorrow).totals).toEqual(emptyTotals());
    expect(rigUsage(stored, {}, tomorrow).today).toEqual(emptyTotals());
    const next = countRun(stored, used(5, 1), tomorrow);
    expect(next.day).toBe("2026-12-09");
    expect(next.totals.runs).toBe(1);
    // Buckets older than 24 hours are dropped.
    expect(Object.keys(next.hours)).toEqual([String(Math.floor(tomorrow / HOUR_MS))]);
    expect(usageWake(next, tomorrow + DAY)).toBeNull();
  });
});

describe("the town's daily totals (party/town/usage.ts)", () => {
  it("W22: a rig's notice sent again, or overtaken by a later one, counts nothing twice", () => {
    const one = addUsage(undefined, used(100, 1));
    const two = addUsage(one, used(50, 0.5));
    const byRig = withRigDay({}, "rigA", one)!;
    expect(withRigDay(byRig, "rigA", one)).toBeNull();
    const later = withRigDay(byRig, "rigA", two)!;
    expect(withRigDay(later, "rigA", one)).toBeNull();
    const both = withRigDay(later, "rigB", one)!;
    expect(dayTotals(both)).toMatchObject({ runs: 3, costUsd: 2.5 });
  });

  it("W22: whatever order the notices arrive in, and however often, the day's totals are each rig's last sums added", () => {
    // Each rig's successive whole-day sums; the outbox may deliver any of them, repeated, in any order.
    const rigRuns = fc.array(fc.array(fc.record({ tokens: fc.nat(1_000), cents: fc.nat(500) }), { minLength: 1, maxLength: 6 }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        rigRuns.chain((rigs) => {
          const notices = rigs.flatMap((runs, r) => {
            let totals: UsageTotals | undefined;
            return runs.map((run) => {
              totals = addUsage(totals, used(run.tokens, run.cents / 100));
              return { rig: `rig${r}`, totals };
            });
          });
          const finals = rigs.map((_, r) => notices.filter((n) => n.rig === `rig${r}`).at(-1)!);
          // Every rig's last notice arrives at least once; any others may arrive, again and again.
          return fc.tuple(
            fc.constant(finals),
            fc
              .shuffledSubarray([...notices, ...notices])
              .chain((some) => fc.shuffledSubarray([...some, ...finals], { minLength: some.length + finals.length })),
          );
        }),
        ([finals, delivered]) => {
          let byRig: DayByRig = {};
          for (const n of delivered) byRig = withRigDay(byRig, n.rig, n.totals) ?? byRig;
          const expected = finals.reduce(
            (sum, f) => ({ ...sum, runs: sum.runs + f.totals.runs, inputTokens: sum.inputTokens + f.totals.inputTokens }),
            emptyTotals(),
          );
          const got = dayTotals(byRig);
          expect(got.runs).toBe(expected.runs);
          expect(got.inputTokens).toBe(expected.inputTokens);
        },
      ),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? 20261208) },
    );
  });

  it("W22: a new UTC day moves today into the earlier days (newest first, at most 30) and lapses a reached budget; a late notice of an earlier day corrects that day", () => {
    const budget = { unit: "usd" as const, daily: 1 };
    let usage: TownUsage = { ...emptyTownUsage(T), budget };
    usage = withDay(usage, T, utcDay(T), addUsage(undefined, used(10, 2)));
    const hold = townHold(usage, T)!;
    expect(hold).toEqual({ by: "town", since: T, reason: "the town's daily budget is reached ($2.00 of $1.00 today, UTC)" });
    usage = { ...usage, reached: hold };
    const rolled = withDay(usage, T + DAY);
    expect(rolled.day).toBe("2026-12-09");
    expect(rolled.today).toEqual(emptyTotals());
    expect(rolled.reached).toBeNull();
    expect(rolled.days).toEqual([{ day: "2026-12-08", totals: usage.today }]);
    expect(townHold(rolled, T + DAY)).toBeNull();
    expect(holdChanged(usage, rolled)).toBe(true);
    // A rig's late notice of yesterday corrects yesterday, not today.
    const late = withDay(rolled, T + DAY, "2026-12-08", addUsage(usage.today, used(1, 1)));
    expect(late.days[0]!.totals.runs).toBe(2);
    expect(late.today.runs).toBe(0);
    // Thirty days are kept.
    let long = rolled;
    for (let d = 2; d < 40; d++) long = withDay({ ...long, today: addUsage(undefined, used(1, 0)) }, T + d * DAY);
    expect(long.days).toHaveLength(30);
    expect(long.days[0]!.day > long.days[29]!.day).toBe(true);
    expect(dayLine("2026-12-08", usage.today)).toBe("usage on 2026-12-08 (UTC): 1 run, $2.00, 16 tokens");
  });
});

describe("what else carries usage and models", () => {
  it("a convoy bead keeps the usage its rig last told; a bead placed by the town carries its model to its rig", () => {
    const convoy: Convoy = {
      id: "c1",
      title: "Release",
      status: "open",
      createdAt: T,
      beads: [{ rigId: "r1", rigName: "a", beadId: "b1", title: "x", status: "in_progress", reason: "", rev: 1 }],
    };
    const totals = addUsage(undefined, used(10, 0.3));
    const next = applyNotice(convoy, { beadId: "b1", status: "open", rev: 2, usage: totals }, T)!;
    expect(next.beads[0]!.usage).toEqual(totals);
    const placed = beadEntries([{ spec: { title: "t", model: "claude-opus-test" }, rigId: "r1", rigName: "a", reason: "a: chosen", beadId: "b2" }], T);
    expect((placed[0]!.payload as BeadPayload).bead.model).toBe("claude-opus-test");
    expect(
      (beadEntries([{ spec: { title: "t" }, rigId: "r1", rigName: "a", reason: "", beadId: "b3" }], T)[0]!.payload as BeadPayload).bead,
    ).not.toHaveProperty("model");
  });

  it("a rig held by a budget is an attention item of kind budget, with the figures, ranked with a rig in error", () => {
    const items = attentionItems({
      rig: { id: "r1", name: "backend" },
      beads: [],
      agents: [],
      mail: [],
      escalations: [],
      hold: { by: "rig", since: T, reason: "the rig's daily budget is reached ($5.02 of $5.00 today, UTC)" },
    });
    expect(items).toEqual([
      { kind: "budget", id: "r1", title: "backend", detail: "no new run starts: the rig's daily budget is reached ($5.02 of $5.00 today, UTC)", at: T },
    ]);
  });
});
