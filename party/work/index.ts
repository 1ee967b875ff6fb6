/**
 * The work machine of one rig (docs/lifecycle.md): pure, importing nothing of party/ but the
 * protocol. The rig room (party/rig/) feeds it events and carries its effects out.
 *
 * Layers, bottom up (each imports only those below it):
 *   types, events, words        what it reads and returns; every line it writes for people
 *   table                       the transitions as data
 *   overlay, records            one step's view with its checked writes; status moves and commands
 *   usage                       usage as numbers: sums, budgets' spend, UTC days
 *   attempts, budget, runs, lease, clocks, dispatch, beads, merges, escalations, clone, tokens   the rules
 *   step                        one handler per event
 */
export { step, owedCommands } from "./step.ts";
export { nextWake, pauseMs, tickMs } from "./clocks.ts";
export { emptyLease, requireEpoch } from "./lease.ts";
export { createRig } from "./clone.ts";
export { escalationRecord } from "./escalations.ts";
export { checkOutput, checkRunToken, tokenRenewalRefusal } from "./tokens.ts";
export { historyEntries, withStatus } from "./records.ts";
export { runEnded } from "./overlay.ts";
export { escalationTone, budgets as budgetWords, tokenCount, usdText } from "./words.ts";
export { budgetWake, holdOf } from "./budget.ts";
export { addAgentUsage, addUsage, agentToday, dayStartAt, emptyTotals, nextDayAt, reached, spendOf, sumTotals, tokensOf, utcDay, DAY_MS } from "./usage.ts";
export { nudgeWaiting } from "./runs.ts";
export { TABLES, allows, type Machine, type Row } from "./table.ts";
export type * from "./types.ts";
export type * from "./events.ts";
