/**
 * The town's usage and budgets, carried out (the rules are in usage.ts and the rigs' work machine,
 * W22): the rigs' notices of their days summed into the town document's `usage` map, the town's
 * daily budget judged on them (every rig told when it is reached and when no longer), gt_budget_set
 * (the town's budget here, a rig's sent to its room) and gt_costs.
 */
import { errorResponse, jsonResponse, tool, type Caller, type ToolSpec } from "../live/index.ts";
import { usageNotice } from "../internal.ts";
import type { OutboxEntry } from "../outbox.ts";
import { TOWN_DOC, townToolArgs, type Budget, type BudgetSetResult, type CostsResult, type FeedEvent, type TownUsage } from "../protocol.ts";
import { budgetWords, emptyTotals, nextDayAt, utcDay } from "../work/index.ts";
import { ROLES, audited, outboxPuts, requireCovers, requireRig, requireTownWide, rigsOf, sendNow, type Town } from "./context.ts";
import { budgetEntry, townBudgetEntry } from "./entries.ts";
import { dayLine, dayTotals, emptyTownUsage, holdChanged, townHold, withDay, withRigDay, type DayByRig } from "./usage.ts";

const dayKey = (day: string) => `usage-day:${day}`;

export class TownUsageBook {
  /** Changes to the usage record run one at a time (each reads it, then writes it). */
  private lane: Promise<unknown> = Promise.resolve();

  constructor(private readonly town: Town) {}

  /** The town's usage as the document holds it (an empty record before the first run's). */
  current(now = Date.now()): TownUsage {
    return this.town.records.get<TownUsage>(TOWN_DOC.usage, "town") ?? emptyTownUsage(now);
  }

  tools(): Record<string, ToolSpec<any>> {
    const town = this.town;
    return {
      gt_budget_set: tool(townToolArgs.gt_budget_set, ROLES.operator, async (args, caller): Promise<BudgetSetResult> => {
        if (args.rig === undefined) {
          requireTownWide(caller, "set the town's budget");
          const audit = this.budgetAudit(caller, null, args.budget);
          await this.serially((now) => this.change(now, (u) => ({ ...u, budget: args.budget }), [this.budgetLine(null, args.budget)], audit.put));
          await audit.commit();
          return { rig: null, budget: args.budget };
        }
        const rig = requireRig(town, args.rig);
        requireCovers(caller, rig);
        // The rig's budget lives in its room (its work machine judges it); the outbox carries it there.
        const entry = budgetEntry(rig.id, args.budget, Date.now());
        const audit = this.budgetAudit(caller, rig.name, args.budget);
        await town.records.write([], [this.budgetLine(rig.name, args.budget)], { put: { ...outboxPuts([entry]), ...audit.put } });
        await audit.commit();
        await sendNow(town, [entry]);
        return { rig: rig.name, budget: args.budget };
      }),
      gt_costs: tool(townToolArgs.gt_costs, ROLES.staff, async (args, caller): Promise<CostsResult> => {
        requireTownWide(caller, "read the town's costs");
        const now = Date.now();
        const usage = withDay(this.current(now), now);
        const day = utcDay(now);
        return {
          day,
          town: { today: usage.today, budget: usage.budget, reached: usage.reached },
          days: usage.days.slice(0, args.days ?? 7),
          rigs: rigsOf(town).map((rig) => {
            const u = rig.summary.usage;
            const current = u?.day === day;
            return {
              name: rig.name,
              today: current ? u.today : emptyTotals(),
              budget: u?.budget ?? null,
              hold: u?.hold ?? null,
              costByHour: u?.costByHour ?? Array.from({ length: 24 }, () => 0),
            };
          }),
        };
      }),
    };
  }

  /** `usage`, from a rig's outbox: its sums of one day. */
  async notice(body: unknown): Promise<Response> {
    const parsed = usageNotice.safeParse(body);
    if (!parsed.success) return errorResponse("INVALID_ARGS", parsed.error.issues[0]?.message ?? "bad usage notice");
    const { rig_id, day, totals } = parsed.data;
    const applied = await this.serially(async (now) => {
      const byRig = (await this.town.storage.get<DayByRig>(dayKey(day))) ?? {};
      const next = withRigDay(byRig, rig_id, totals);
      if (!next) return false;
      await this.change(now, (u) => withDay(u, now, day, dayTotals(next)), [], { [dayKey(day)]: next });
      return true;
    });
    return jsonResponse({ ok: true, value: applied ? "applied" : "stale" });
  }

  /** A rig added while the town's budget is reached today holds too: it is told, as the others were. */
  async rigAdded(rigId: string): Promise<void> {
    const now = Date.now();
    const usage = this.current(now);
    if (!usage.reached || usage.day !== utcDay(now)) return;
    const entry = townBudgetEntry(rigId, { reached: true, day: usage.day, at: now, reason: usage.reached.reason }, now);
    await this.town.records.write([], [], { put: outboxPuts([entry]) });
    await sendNow(this.town, [entry]);
  }

  /** When the alarm must look again: at the next UTC day while today has anything to close (its day line, a reached budget). */
  wake(now = Date.now()): number | null {
    const usage = this.town.records.get<TownUsage>(TOWN_DOC.usage, "town");
    return usage && (usage.today.runs > 0 || usage.reached) ? nextDayAt(now) : null;
  }

  /** The alarm's look: a new UTC day moves the record on (yesterday's line in the feed; a reached budget lapses). */
  async rollIfDue(): Promise<void> {
    const usage = this.town.records.get<TownUsage>(TOWN_DOC.usage, "town");
    if (usage && usage.day < utcDay(Date.now())) await this.serially((now) => this.change(now, (u) => u));
  }

  private serially<T>(fn: (now: number) => Promise<T>): Promise<T> {
    const run = this.lane.then(() => fn(Date.now()));
    this.lane = run.catch(() => {});
    return run;
  }

  /**
   * One change of the usage record, in one write: the day moved on when it must (yesterday's line),
   * `edit` applied, the town's budget judged again; when it became reached or no longer, a feed
   * line and a notice to every rig (through the outbox, in the same write).
   */
  private async change(now: number, edit: (u: TownUsage) => TownUsage, events: FeedEvent[] = [], put: Record<string, unknown> = {}): Promise<void> {
    const town = this.town;
    const before = this.current(now);
    const rolled = withDay(before, now);
    const lines = [...events];
    if (rolled.day !== before.day && before.today.runs > 0) lines.push(town.feedEvent("usage", dayLine(before.day, before.today)));
    const edited = edit(rolled);
    const hold = townHold(edited, now);
    const next: TownUsage = { ...edited, reached: hold, updatedAt: now };
    const entries: OutboxEntry[] = [];
    if (holdChanged(before, next)) {
      const reason = hold?.reason ?? "the town's daily budget is no longer reached";
      lines.push(
        town.feedEvent("budget", hold ? `${hold.reason}: no new run starts in any rig` : `${reason}: runs start again`, { tone: hold ? "warn" : "good" }),
      );
      for (const rig of rigsOf(town)) entries.push(townBudgetEntry(rig.id, { reached: hold !== null, day: next.day, at: now, reason }, now));
    }
    await town.records.write([{ collection: TOWN_DOC.usage, key: "town", value: next }], lines, { put: { ...put, ...outboxPuts(entries) } });
    if (entries.length) await sendNow(town, entries);
  }

  private budgetAudit(caller: Caller, rig: string | null, budget: Budget | null) {
    const whose = rig === null ? "the town's" : `rig ${rig}'s`;
    return audited(this.town, caller, {
      action: budget ? "budget_set" : "budget_clear",
      text: budget ? `set ${whose} daily budget: ${budgetWords.describe(budget)}` : `cleared ${whose} daily budget`,
      ...(rig ? { rig } : {}),
    });
  }

  private budgetLine(rig: string | null, budget: Budget | null): FeedEvent {
    const whose = rig === null ? "the town's" : `rig ${rig}'s`;
    const text = budget ? `${whose} daily budget set: ${budgetWords.describe(budget)} (UTC days)` : `${whose} daily budget cleared`;
    return this.town.feedEvent("budget", text, rig === null ? {} : { rig });
  }
}
