/**
 * `gt costs` and `gt budget`: an operator reads what the town's runs used (today, UTC, per rig and
 * by day) and sets, raises or clears a daily budget, the town's or a rig's (lifecycle W22: when it is
 * reached no new run starts there). Both are town tools; a rig-scoped operator sets only its rig's.
 */
import type { BudgetSetResult, CostsResult, UsageTotals } from "../../party/protocol.ts";
import { budgets, tokenCount, usdText } from "../../party/work/words.ts";
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { numberOption } from "./input.ts";

/** "$1.20, 1,260 tokens, 1 run" (and how many runs had no cost; when none had one, "cost unknown", never "$0.00"). */
export function totalsText(t: UsageTotals): string {
  const tokens = t.inputTokens + t.outputTokens + t.cacheReadTokens + t.cacheWriteTokens;
  const cost = t.runs > 0 && t.unpriced === t.runs ? "cost unknown" : `${usdText(t.costUsd)}${t.unpriced ? ` (${t.unpriced} without a cost)` : ""}`;
  return `${cost}, ${tokenCount(tokens)} tokens, ${t.runs} run${t.runs === 1 ? "" : "s"}`;
}

function printCosts(costs: CostsResult): string {
  const town = costs.town;
  const lines = [`Today (${costs.day}, UTC): ${totalsText(town.today)}; budget: ${town.budget ? budgets.describe(town.budget) : "none"}`];
  if (town.reached) lines.push(`  held: ${town.reached.reason}`);
  if (costs.rigs.length) lines.push("Rigs today:");
  for (const rig of costs.rigs) {
    lines.push(`  ${rig.name}: ${totalsText(rig.today)}; budget: ${rig.budget ? budgets.describe(rig.budget) : "none"}`);
    if (rig.hold) lines.push(`    held: ${rig.hold.reason}`);
  }
  if (costs.days.length) lines.push("Earlier days:", ...costs.days.map((d) => `  ${d.day}: ${totalsText(d.totals)}`));
  return lines.join("\n");
}

export const costs: Command = {
  name: "costs",
  usage: "[--days <n>] [--json]",
  summary: "what the town's runs used today (UTC): the town's sums and budget, each rig's, and the earlier days' (default 7)",
  tool: "gt_costs",
  operator: true,
  options: [["--days <n>", "earlier days to list, 0 to 30 (default 7)"]],
  args: (v) => ({ days: numberOption(v.days) }),
  print: printCosts,
};

const printSet = (set: BudgetSetResult) =>
  `${set.rig === null ? "the town's" : `rig ${set.rig}'s`} daily budget ${set.budget ? `is ${budgets.describe(set.budget)} (UTC days)` : "is cleared"}`;

export const budgetSet: Command = {
  name: "budget set",
  usage: "(--usd <amount> | --tokens <n>) [--rig <name>]",
  summary:
    "set or raise a daily budget (UTC days) in USD or tokens: the town's, or with --rig that rig's; when a day's spend reaches it, no new run starts there until it is raised, cleared or the day ends",
  tool: "gt_budget_set",
  operator: true,
  options: [
    ["--usd <amount>", "a budget in USD a day, e.g. 5 or 0.50"],
    ["--tokens <n>", "a budget in tokens a day (input, output and cache together)"],
    ["--rig <name>", "the rig's budget (default: the town's)"],
  ],
  args: (v) => {
    if ((v.usd === undefined) === (v.tokens === undefined)) throw new GtUsageError("give the budget once: --usd <amount> or --tokens <n>");
    const budget = v.usd !== undefined ? { unit: "usd", daily: numberOption(v.usd) } : { unit: "tokens", daily: numberOption(v.tokens) };
    return { rig: v.rig, budget };
  },
  print: printSet,
};

export const budgetClear: Command = {
  name: "budget clear",
  usage: "[--rig <name>]",
  summary: "clear a daily budget: the town's, or with --rig that rig's; runs start again if it held them",
  tool: "gt_budget_set",
  operator: true,
  options: [["--rig <name>", "the rig's budget (default: the town's)"]],
  args: (v) => ({ rig: v.rig, budget: null }),
  print: printSet,
};
