/**
 * W22 — budgets: a daily budget (UTC days, tokens or USD) per rig, and the town's, which the town
 * tells the rig of. While one is reached no new run starts: dispatch holds and the open beads wait
 * (open, the hold's reason theirs to show). A run already dispatched is not stopped; its usage is
 * counted when it ends, once per run. Only dispatch decides the
 * hold (table.ts `hold`), so every step that may change the spend or a budget decides it again.
 */
import type { Budget, BudgetHold, Usage, UsageTotals } from "../protocol.ts";
import type { EventOf } from "./events.ts";
import type { Overlay } from "./overlay.ts";
import type { RigState, WorkState } from "./types.ts";
import { addAgentUsage, addUsage, emptyTotals, nextDayAt, reached, spendOf, sumTotals, utcDay } from "./usage.ts";
import { budgets as say } from "./words.ts";

/** What the rig's runs used today (UTC): the stored spend of today, and what this step counted. */
export function spentToday(tx: Overlay): UsageTotals {
  const stored = tx.state.spent;
  const today = stored && stored.day === utcDay(tx.now) ? stored.totals : emptyTotals();
  return tx.counted ? sumTotals(today, tx.counted) : today;
}

/**
 * A run's usage, counted once (the event says whether it was already): its bead's sum, its agent's
 * day (Agent `usage`), the step's spend (dispatch judges the budgets on it right after), and the
 * store's write of the run's record and the rig's sums, all in the step's one write. A bead
 * retention moved out keeps its sum as it was; the rig's sums count it.
 */
export function countUsage(tx: Overlay, identity: string, run: string, beadId: string, usage: Usage): void {
  const bead = tx.bead(beadId);
  if (bead) tx.setBead({ ...bead, usage: addUsage(bead.usage, usage) });
  const agent = tx.agent(identity);
  if (agent) tx.setAgent({ ...agent, usage: addAgentUsage(agent.usage, usage, tx.now) });
  tx.counted = addUsage(tx.counted ?? undefined, usage);
  tx.effect({ kind: "usage", identity, run, beadId, usage });
}

/** Which budget holds dispatch now, with its reason: the rig's own first, then the town's (today's notice only). */
export function holdOf(rig: RigState, spent: UsageTotals, now: number): Omit<BudgetHold, "since"> | null {
  if (rig.budget && reached(rig.budget, spent)) return { by: "rig", reason: say.rigReached(say.figures(rig.budget, spendOf(rig.budget, spent))) };
  const town = rig.townBudget;
  if (town?.reached && town.day === utcDay(now)) return { by: "town", reason: town.reason };
  return null;
}

/**
 * Dispatch's first look (W22): holds it while a budget is reached (feed lines when that begins and
 * ends). A run dispatched before is not taken back: like a running run, it goes on and its usage
 * counts when it ends. Returns whether dispatch holds.
 */
export function holdDispatch(tx: Overlay): boolean {
  const rig = tx.rig;
  if (!rig) return false;
  const hold = holdOf(rig, spentToday(tx), tx.now);
  const was = rig.hold;
  if (!hold) {
    if (was) {
      const next: RigState = { ...rig };
      delete next.hold;
      tx.setRig(next);
      tx.feed("budget", say.releasedLine(releasedWhy(was, rig, tx.now)), { tone: "good" });
    }
    return false;
  }
  if (!was || was.by !== hold.by || was.reason !== hold.reason) tx.setRig({ ...rig, hold: { ...hold, since: was?.since ?? tx.now } });
  if (!was) tx.feed("budget", say.heldLine(hold.reason), { tone: "warn" });
  return true;
}

function releasedWhy(was: BudgetHold, rig: RigState, now: number): string {
  if (utcDay(was.since) !== utcDay(now)) return say.newDay;
  return was.by === "rig" ? say.rigRaised(rig.budget) : say.townCleared;
}

/** An operator's budget for the rig (through the town): set, raised or cleared; dispatch judges it in the same step. */
export function setBudget(tx: Overlay, budget: Budget | null): null {
  const rig = tx.rig;
  if (!rig) throw new Error("the rig's state was not given to the step");
  if (sameBudget(rig.budget, budget)) return null;
  const next: RigState = { ...rig };
  if (budget) next.budget = budget;
  else delete next.budget;
  tx.setRig(next);
  tx.feed("budget", say.setLine(budget));
  return null;
}

/** The town's notice of its budget: a later notice replaces an earlier one (by the town's `at`); dispatch judges it in the same step. */
export function townBudget(tx: Overlay, event: EventOf<"town_budget">): null {
  const rig = tx.rig;
  if (!rig) throw new Error("the rig's state was not given to the step");
  if (rig.townBudget && rig.townBudget.at >= event.at) return null;
  tx.setRig({ ...rig, townBudget: { reached: event.reached, day: event.day, at: event.at, reason: event.reason } });
  return null;
}

function sameBudget(a: Budget | undefined, b: Budget | null): boolean {
  return (a ?? null) === b || (!!a && !!b && a.unit === b.unit && a.daily === b.daily);
}

/** When a held rig must look again though nothing happens: the next UTC day, whose spend starts from nothing. */
export function budgetWake(state: Pick<WorkState, "rig">, now: number): number | null {
  return state.rig?.hold ? nextDayAt(now) : null;
}
