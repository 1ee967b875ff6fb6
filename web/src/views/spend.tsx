/**
 * Usage and spend: a rig's today (its card's line, its page's panel with the last 24 hours by
 * hour), the town's today, budgets and holds. Sums come from the documents (the rig summary's
 * `usage`, the town document's `usage`); a cost the runs did not report is said to be unknown.
 */
import { For, Show, createMemo, createSignal, lazy, onCleanup, onMount } from "solid-js";
import type { Budget, BudgetHold, Rig, RigUsage, TownUsage, UsageTotals } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { hourStart, hourly } from "../lib/charts.ts";
import { axisTicks, budgetAmount, budgetUse, costText, tokenCount, tokens, totalsLine, usd } from "../lib/usage.ts";
import { YGrid } from "../ui/charts.tsx";
import { Ago, Panel } from "../ui/kit.tsx";

// Operator-only code (and zod, through the tools) is loaded only when an operator's controls show.
const BudgetControl = lazy(() => import("../actions/budget.tsx"));

/** The rig card's line: today's spend, and of its budget when it has one. */
export function RigSpendLine(props: { usage: RigUsage | undefined }) {
  return (
    <Show when={props.usage}>
      {(u) => (
        <p class="mt-2 truncate text-xs text-zinc-500 compact:hidden" data-testid="rig-spend" data-cost={u().today.costUsd} data-unpriced={u().today.unpriced}>
          <span class="text-zinc-500">Today </span>
          <span class="font-medium text-zinc-700 dark:text-zinc-200">{costText(u().today)}</span>
          <Show when={u().today.runs}> · {tokens(tokenCount(u().today))} tokens</Show>
          <Show when={u().budget}>{(b) => <span data-testid="rig-spend-budget"> · budget {budgetAmount(b())}</span>}</Show>
        </p>
      )}
    </Show>
  );
}

/** Why dispatch is held, in the room's words (with its figures), and since when. */
export function HoldNote(props: { hold: BudgetHold; testid?: string }) {
  return (
    <p
      class="rounded-md bg-amber-500/10 px-3 py-2 text-sm text-amber-800 dark:text-amber-200"
      data-testid={props.testid ?? "budget-hold"}
      data-by={props.hold.by}
    >
      <span class="font-medium">On hold{props.hold.by === "town" ? " for the town's budget" : " for its budget"}</span> (since <Ago at={props.hold.since} />
      ): {props.hold.reason.replace(/\.$/, "")}. No new run starts until the budget is raised or cleared, or the day ends (UTC); runs already going finish.
    </p>
  );
}

/** A budget's line: "Budget $1.20 of $5.00 today (24%)", or that there is none. */
function BudgetLine(props: { budget: Budget | null | undefined; today: UsageTotals | undefined; testid: string }) {
  return (
    <Show when={props.budget} fallback={<span data-testid={props.testid}>No daily budget.</span>}>
      {(b) => {
        const use = () => budgetUse(b(), props.today);
        return (
          <span data-testid={props.testid} data-share={use().share.toFixed(2)}>
            Budget {use().text}
            <span
              class="ml-2 inline-block h-1.5 w-24 overflow-hidden rounded-full bg-zinc-200 align-middle dark:bg-zinc-700"
              role="meter"
              aria-valuemin={0}
              aria-valuemax={b().daily}
              aria-valuenow={use().spent}
              aria-label={`Budget used: ${use().text}`}
            >
              <span
                class={`block h-full ${use().share >= 1 ? "bg-rose-500" : use().share >= 0.8 ? "bg-amber-500" : "bg-emerald-500"}`}
                style={{ width: `${Math.min(100, use().share * 100)}%` }}
              />
            </span>
          </span>
        );
      }}
    </Show>
  );
}

/** The rig page's panel: today's sums, budget and hold, and spend per hour over the last 24 hours. */
export function RigSpendPanel(props: { rig: Rig }) {
  const town = useTown();
  const u = () => props.rig.summary.usage;
  // Where no run reported a cost, dollars would draw a flat zero: tokens say what was used.
  const unit = () => (u()?.budget?.unit === "tokens" || (u() && u()!.today.runs > 0 && u()!.today.unpriced >= u()!.today.runs) ? "tokens" : "usd");
  return (
    <Panel
      title="Spend today (UTC)"
      testid="rig-spend-panel"
      actions={
        <Show when={town.isOperator}>
          <BudgetControl rig={props.rig.name} budget={u()?.budget} />
        </Show>
      }
    >
      <div class="space-y-2 px-4 py-3 text-sm">
        <Show
          when={u()}
          fallback={
            <p class="text-zinc-500" data-testid="rig-spend-none">
              {town.reach.kind === "rig"
                ? "This rig's spend is not part of this link."
                : "No usage recorded yet: it shows once a run of this rig reports what it used."}
            </p>
          }
        >
          {(usage) => (
            <>
              <p class="flex flex-wrap items-center gap-x-4 gap-y-1">
                <span class="font-medium" data-testid="rig-spend-today">
                  {totalsLine(usage().today)}
                </span>
                <span class="text-zinc-600 dark:text-zinc-300">
                  <BudgetLine budget={usage().budget} today={usage().today} testid="rig-budget" />
                </span>
              </p>
              {/* A hold is said at the top of the rig's page (rig-board.tsx), not again here. */}
              <SpendChart usage={usage()} now={props.rig.summary.updatedAt} unit={unit()} />
              <p class="text-xs text-zinc-500">
                {unit() === "usd" ? "USD" : "Tokens"} per hour over the last 24 hours, this hour on the right
                {unit() === "tokens" && usage().today.unpriced ? " (tokens, since no run today reported its cost)" : ""}.
              </p>
            </>
          )}
        </Show>
      </div>
    </Panel>
  );
}

/** The town's spend today on the overview: its sums, its budget (and whether it is reached), the last days. */
export function TownSpendPanel(props: { usage: TownUsage | undefined }) {
  const town = useTown();
  return (
    <Panel
      title="Spend today (UTC)"
      testid="town-spend"
      actions={
        <Show when={town.isOperator}>
          <BudgetControl budget={props.usage?.budget} />
        </Show>
      }
    >
      <div class="space-y-2 px-4 py-3 text-sm">
        <Show when={props.usage} fallback={<p class="text-zinc-500">No usage recorded yet: it shows once a run reports what it used.</p>}>
          {(usage) => (
            <>
              <p class="font-medium" data-testid="town-spend-today">
                {totalsLine(usage().today)}
              </p>
              <p class="text-zinc-600 dark:text-zinc-300">
                <BudgetLine budget={usage().budget} today={usage().today} testid="town-budget" />
              </p>
              <Show when={usage().reached}>{(hold) => <HoldNote hold={hold()} testid="town-budget-reached" />}</Show>
              <Show when={usage().days.length}>
                <ul class="space-y-0.5 text-xs text-zinc-500" data-testid="town-spend-days">
                  <For each={usage().days.slice(0, 7)}>
                    {(d) => (
                      <li class="flex justify-between gap-2">
                        <span class="tabular-nums">{d.day}</span>
                        <span>{totalsLine(d.totals)}</span>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            </>
          )}
        </Show>
      </div>
    </Panel>
  );
}

/**
 * Spend per UTC hour over the last 24 hours (the current hour on the right), with a y axis in
 * round steps of its unit and the hours under it; each bar says its hour and figure.
 */
export function SpendChart(props: { usage: RigUsage; now: number; unit: "usd" | "tokens" }) {
  let box!: HTMLDivElement;
  const [width, setWidth] = createSignal(600);
  onMount(() => {
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.max(240, Math.round(entry.contentRect.width))));
    observer.observe(box);
    onCleanup(() => observer.disconnect());
  });
  const values = createMemo(() => hourly(props.unit === "usd" ? props.usage.costByHour : props.usage.tokensByHour));
  const ticks = createMemo(() => axisTicks(Math.max(0, ...values())));
  const top = () => ticks()[ticks().length - 1]!;
  // Whole dollars when every step is whole ("$0 $5 $10"), else cents on every label ("$0.00 $0.50 $1.00").
  const fmt = (v: number) => (props.unit === "tokens" ? tokens(v) : ticks().every(Number.isInteger) ? usd(v).replace(/\.00$/, "") : `$${v.toFixed(2)}`);
  const total = () => values().reduce((a, v) => a + v, 0);
  const H = 140;
  const pad = { l: 44, r: 8, t: 8, b: 20 };
  const plotW = () => width() - pad.l - pad.r;
  const y = (v: number) => pad.t + (1 - v / top()) * (H - pad.t - pad.b);
  const hourLabel = (hoursAgo: number) => new Date(hourStart(props.now, hoursAgo)).toLocaleTimeString(undefined, { hour: "numeric" });
  return (
    <div ref={box} class="w-full">
      <svg
        viewBox={`0 0 ${width()} ${H}`}
        class="h-36 w-full text-zinc-400"
        role="img"
        aria-label={`Spend per hour over the last 24 hours: ${props.unit === "usd" ? usd(total()) : `${tokens(total())} tokens`} in all`}
        data-testid="spend-chart"
        data-unit={props.unit}
        data-total={props.unit === "usd" ? total().toFixed(4) : total()}
      >
        <YGrid ticks={ticks()} y={y} left={pad.l} right={width() - pad.r} label={fmt} testid="spend-tick" />
        <For each={values()}>
          {(v, i) => {
            const slot = () => plotW() / 24;
            return (
              <rect
                x={pad.l + i() * slot() + 1}
                width={Math.max(1, slot() - 2)}
                y={y(v)}
                height={Math.max(0, y(0) - y(v))}
                class="fill-violet-500"
                data-testid="spend-bar"
                data-value={v}
              >
                <title>{`${hourLabel(23 - i())}: ${props.unit === "usd" ? usd(v) : `${tokens(v)} tokens`}`}</title>
              </rect>
            );
          }}
        </For>
        <For each={[23, 17, 11, 5, 0]}>
          {(ago) => (
            <text
              x={pad.l + (23 - ago + 0.5) * (plotW() / 24)}
              y={H - 5}
              font-size="10"
              fill="currentColor"
              text-anchor={ago === 0 ? "end" : ago === 23 ? "start" : "middle"}
            >
              {ago === 0 ? "this hour" : hourLabel(ago)}
            </text>
          )}
        </For>
      </svg>
    </div>
  );
}
