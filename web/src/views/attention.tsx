/**
 * The attention lane, at the top of the overview: what needs a person right now, worst first,
 * across every rig (failed beads, open escalations, stalled, hung or dead agents, mail waiting on
 * agents that finished, rigs in error). Each row links to where the problem is; operators also get
 * its action inline. Read from the town document alone.
 */
import { For, Show, createMemo, createSignal, lazy } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { laneOf, type Lane } from "../lib/attention.ts";
import type { AttentionItem, Rig, TownUsage } from "../../../party/protocol.ts";
import { budgetUse } from "../lib/usage.ts";
import { BADGE, tone as toneOf, type Tone } from "../lib/tone.ts";
import { Ago } from "../ui/kit.tsx";

const AttentionActions = lazy(() => import("../actions/attention-actions.tsx"));
const LaneMoveDialog = lazy(() => import("../actions/attention-actions.tsx").then((m) => ({ default: m.LaneMoveDialog })));

/** Rows shown before "show all": the lane should be read at a glance, not scrolled. */
const FIRST = 8;

const KIND_LABEL: Record<AttentionItem["kind"], string> = {
  failed_bead: "failed",
  escalation: "escalation",
  agent: "agent",
  waiting_mail: "mail waiting",
  rig_error: "rig error",
  budget: "budget",
  stuck_convoy: "convoy stuck",
};

function itemTone(item: AttentionItem): Tone {
  switch (item.kind) {
    case "failed_bead":
    case "rig_error":
    case "stuck_convoy":
      return "red";
    case "escalation":
      return toneOf("severity", item.severity ?? "medium");
    case "agent":
      return /^dead\b/.test(item.detail) ? "red" : "amber";
    case "waiting_mail":
      return "blue";
    case "budget":
      return "amber";
  }
}

/** A budget item's figures now, from the summaries: what the holding budget (the rig's, or the town's) has used today. */
function budgetFigures(rig: Rig, townUsage: TownUsage | undefined): string | null {
  const u = rig.summary.usage;
  if (u?.hold?.by === "town" || (!u?.budget && townUsage?.reached))
    return townUsage?.budget ? `Town: ${budgetUse(townUsage.budget, townUsage.today).text}` : null;
  return u?.budget ? `Rig: ${budgetUse(u.budget, u.today).text}` : null;
}

export function AttentionLane() {
  const town = useTown();
  const base = `/t/${town.town}`;
  const lane = createMemo(() => laneOf(base, town.sortedRigs(), Object.values(town.convoys)));
  const [all, setAll] = createSignal(false);
  const [moving, setMoving] = createSignal<Lane | null>(null);
  // Only a summary that lists attention can vouch that nothing needs it (an older room sends none).
  const vouched = createMemo(() => town.sortedRigs().every((r) => Array.isArray(r.summary.attention)));
  const shown = createMemo(() => (all() ? lane() : lane().slice(0, FIRST)));
  return (
    <Show when={town.sync.loaded()}>
      <Show
        when={lane().length}
        fallback={
          <Show when={vouched()}>
            <p
              class="flex items-center gap-2 rounded-xl border border-emerald-300/60 bg-emerald-500/5 px-4 py-2 text-sm text-emerald-800 dark:border-emerald-900 dark:text-emerald-300"
              data-testid="attention-clear"
            >
              <span aria-hidden="true">✓</span> Nothing needs you: no failed beads, open escalations or stuck agents.
            </p>
          </Show>
        }
      >
        <section
          class="rounded-xl border border-rose-300/70 bg-white dark:border-rose-900/70 dark:bg-zinc-900/60"
          data-testid="attention"
          aria-labelledby="attention-title"
        >
          <header class="flex items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
            <h2 id="attention-title" class="text-sm font-semibold text-zinc-700 dark:text-zinc-200">
              Needs attention{" "}
              <span class="ml-1 rounded-full bg-rose-500/10 px-1.5 text-xs tabular-nums text-rose-700 dark:text-rose-300" data-testid="attention-count">
                {lane().length}
              </span>
            </h2>
          </header>
          <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
            <For each={shown()}>
              {(row) => (
                <li
                  class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm"
                  data-testid="attention-item"
                  data-kind={row.item.kind}
                  data-id={row.item.id}
                  data-rig={row.rig.name}
                  data-bead={row.item.beadId}
                >
                  <span class={`w-24 shrink-0 rounded px-1.5 py-0.5 text-center text-xs font-medium ring-1 ring-inset ${BADGE[itemTone(row.item)]}`}>
                    {row.item.kind === "escalation" && row.item.severity ? row.item.severity : KIND_LABEL[row.item.kind]}
                  </span>
                  <div class="min-w-0 flex-1 basis-48">
                    <a href={row.href} class="font-medium hover:underline focus-visible:outline-2 focus-visible:outline-blue-500" data-testid="attention-link">
                      {row.item.title}
                    </a>
                    <p class="break-words text-xs text-zinc-500" data-testid="attention-detail">
                      <span class="font-medium text-zinc-600 dark:text-zinc-400">{row.rig.name}</span> · {row.item.detail} · <Ago at={row.item.at} />
                    </p>
                    <Show when={row.item.kind === "budget" && budgetFigures(row.rig, town.usage())}>
                      {(figures) => (
                        <p class="text-xs text-zinc-600 dark:text-zinc-300" data-testid="attention-budget-figures">
                          {figures()}
                        </p>
                      )}
                    </Show>
                  </div>
                  <Show when={town.isOperator && row.item.kind !== "rig_error" && row.item.kind !== "stuck_convoy"}>
                    <AttentionActions row={row} onMove={setMoving} />
                  </Show>
                </li>
              )}
            </For>
          </ul>
          <Show when={lane().length > FIRST}>
            <button
              class="w-full border-t border-zinc-200 px-4 py-1.5 text-left text-xs text-zinc-600 hover:bg-zinc-50 dark:border-zinc-800 dark:text-zinc-400 dark:hover:bg-zinc-800/40"
              onClick={() => setAll(!all())}
              data-testid="attention-all"
            >
              {all() ? "Show the worst first only" : `Show all ${lane().length}`}
            </button>
          </Show>
        </section>
      </Show>
      <Show when={town.isOperator}>
        <LaneMoveDialog row={moving()} onClose={() => setMoving(null)} />
      </Show>
    </Show>
  );
}
