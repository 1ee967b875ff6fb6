/** Usage, spend and budgets as the dashboard says them (web/src/lib/usage.ts). */
import { describe, expect, it } from "vitest";
import type { UsageTotals } from "../../party/protocol.ts";
import {
  EMPTY_TOTALS,
  addTotals,
  agentTodayLine,
  axisTicks,
  budgetUse,
  costText,
  parseBudget,
  runLine,
  tokens,
  totalsLine,
  usd,
} from "../../web/src/lib/usage.ts";

const totals = (over: Partial<UsageTotals>): UsageTotals => ({ ...EMPTY_TOTALS, ...over });

describe("money and tokens", () => {
  it("says dollars to the cent (a tiny cost is not nothing) and tokens in k and M", () => {
    expect(usd(0)).toBe("$0.00");
    expect(usd(0.001)).toBe("<$0.01");
    expect(usd(1.2)).toBe("$1.20");
    expect(usd(1204.4)).toBe("$1,204");
    expect(tokens(840)).toBe("840");
    expect(tokens(1000)).toBe("1k");
    expect(tokens(12_345)).toBe("12k");
    expect(tokens(1_234)).toBe("1.2k");
    expect(tokens(4_500_000)).toBe("4.5M");
  });
});

describe("costText and totalsLine", () => {
  it("never says $0 for runs whose cost is unknown", () => {
    expect(costText(undefined)).toBe("no usage reported");
    expect(costText(totals({ runs: 2, costUsd: 0.42 }))).toBe("$0.42");
    expect(costText(totals({ runs: 3, unpriced: 3 }))).toBe("cost unknown (3 runs unpriced)");
    expect(costText(totals({ runs: 3, costUsd: 1.5, unpriced: 1 }))).toBe("$1.50 + 1 run unpriced");
    expect(totalsLine(totals({ runs: 2, inputTokens: 30_000, outputTokens: 12_000, cacheReadTokens: 3000, costUsd: 1.2 }))).toBe("$1.20 · 45k tokens · 2 runs");
  });
});

describe("agentTodayLine", () => {
  it("says an agent's usage of today (UTC), nothing for an earlier day's sum, and an unknown cost as such", () => {
    const at = Date.UTC(2026, 11, 8, 23, 59);
    const day = "2026-12-08";
    expect(agentTodayLine({ day, today: totals({ runs: 2, inputTokens: 30_000, outputTokens: 12_000, cacheReadTokens: 3000, costUsd: 1.2 }) }, at)).toBe(
      "today: $1.20 · 45k tokens · 2 runs",
    );
    expect(agentTodayLine({ day, today: totals({ runs: 1, inputTokens: 500, unpriced: 1 }) }, at)).toBe(
      "today: cost unknown (1 run unpriced) · 500 tokens · 1 run",
    );
    expect(agentTodayLine({ day, today: totals({ runs: 1, costUsd: 2 }) }, at + 60_000)).toBe("today: no usage reported");
    expect(agentTodayLine(undefined, at)).toBe("today: no usage reported");
  });
});

describe("runLine", () => {
  it("says a run's model, turns, tokens and cost, unknown cost in words", () => {
    const run = { model: "claude-sonnet-4-5", turns: 4, inputTokens: 10_000, outputTokens: 2000, cacheReadTokens: 300, cacheWriteTokens: 0, costUsd: 0.05 };
    expect(runLine(run)).toBe("claude-sonnet-4-5 · 4 turns · 12k tokens · $0.05");
    expect(runLine({ ...run, model: null, turns: null, costUsd: null })).toBe("model not reported · 12k tokens · cost unknown");
  });
});

describe("addTotals", () => {
  it("adds every field, a missing sum as nothing", () => {
    expect(addTotals([totals({ runs: 1, costUsd: 0.5, inputTokens: 10 }), undefined, totals({ runs: 2, unpriced: 1, outputTokens: 5 })])).toEqual(
      totals({ runs: 3, costUsd: 0.5, unpriced: 1, inputTokens: 10, outputTokens: 5 }),
    );
  });
});

describe("budgetUse", () => {
  it("says a budget's figures, and that a USD budget cannot count unpriced runs", () => {
    expect(budgetUse({ unit: "usd", daily: 5 }, totals({ runs: 3, costUsd: 1.2 })).text).toBe("$1.20 of $5.00 today (24%)");
    expect(budgetUse({ unit: "usd", daily: 5 }, totals({ runs: 3, costUsd: 5.5, unpriced: 1 }))).toMatchObject({
      share: 1.1,
      text: "$5.50 of $5.00 today (110%); 1 run unpriced not counted",
    });
    expect(budgetUse({ unit: "tokens", daily: 200_000 }, totals({ inputTokens: 40_000, outputTokens: 10_000 })).text).toBe("50k of 200k tokens today (25%)");
    expect(budgetUse({ unit: "tokens", daily: 100 }, undefined).text).toBe("0 of 100 tokens today (0%)");
  });
});

describe("parseBudget", () => {
  it("takes a positive daily amount and says what is wrong with anything else", () => {
    expect(parseBudget("usd", "5")).toEqual({ budget: { unit: "usd", daily: 5 } });
    expect(parseBudget("usd", " $12.50 ")).toEqual({ budget: { unit: "usd", daily: 12.5 } });
    expect(parseBudget("tokens", "200k")).toEqual({ budget: { unit: "tokens", daily: 200_000 } });
    expect(parseBudget("tokens", "2M")).toEqual({ budget: { unit: "tokens", daily: 2_000_000 } });
    for (const bad of ["", "0", "-1", "1.234", "five", "1e3"]) expect(parseBudget("usd", bad)).toHaveProperty("problem");
    for (const bad of ["", "0", "1.5", "12kk", "many"]) expect(parseBudget("tokens", bad)).toHaveProperty("problem");
  });
});

describe("axisTicks", () => {
  it("draws round gridlines from 0 that cover the highest bar", () => {
    expect(axisTicks(0)).toEqual([0, 1]);
    expect(axisTicks(1.1)).toEqual([0, 0.5, 1, 1.5]);
    expect(axisTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(axisTicks(12)).toEqual([0, 5, 10, 15]);
    for (const max of [0.07, 0.9, 3, 47, 1234]) {
      const ticks = axisTicks(max);
      expect(ticks[0]).toBe(0);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(5);
    }
  });
});
