/** Rig drill-down: unresolved escalations (with their actions), a bead board with a (virtualised) column per status, agents, mail. */
import { For, Show, createMemo, createSignal, lazy, onCleanup } from "solid-js";
import { useSearchParams } from "@solidjs/router";
import type { Bead, BeadStatus, Priority } from "../../../party/protocol.ts";
import {
  BOARD_SORTS,
  SORT_LABEL,
  boardQuery,
  compareBeads,
  isFiltered,
  matches,
  parseBoardQuery,
  shownStatuses,
  type BoardFilter,
  type BoardQuery,
} from "../lib/board-filter.ts";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { BEAD_STATUSES, DOT, label, tone } from "../lib/tone.ts";
import { shortId } from "../lib/time.ts";
import { Ago, Badge, BeadChip, Mono, Panel, btn, input } from "../ui/kit.tsx";
import { compact } from "../lib/density.ts";
import { VirtualList } from "../ui/virtual-list.tsx";
import { RigHeader } from "./rig-header.tsx";
import { AgentTable } from "./agent-table.tsx";
import { MailTable } from "./mail-table.tsx";
import { HoldNote, RigSpendPanel } from "./spend.tsx";
import { EscalationNotes } from "./escalation-notes.tsx";

// Operator-only code (and zod, through the tools) is loaded only when an operator's controls show.
const EscalationActions = lazy(() => import("../actions/escalation-actions.tsx"));

const PRIORITY_MARK = { critical: "text-rose-500", high: "text-amber-500", medium: "text-zinc-400", low: "text-zinc-300 dark:text-zinc-600" } as const;

/** Below Tailwind's md (768 px) the columns stack: each list is kept shorter so the next column shows. */
const STACKED = "(max-width: 767.98px)";
function createStacked() {
  const query = window.matchMedia(STACKED);
  const [stacked, setStacked] = createSignal(query.matches);
  const onChange = () => setStacked(query.matches);
  query.addEventListener("change", onChange);
  onCleanup(() => query.removeEventListener("change", onChange));
  return stacked;
}

export default function RigBoard() {
  const stacked = createStacked();
  const rig = useRig();
  const town = useTown();
  const base = `/t/${town.town}/rigs/${rig.rig.name}`;
  // The filters and sort live in the address, so a reload or a shared address shows the same board.
  const [search, setSearch] = useSearchParams<BoardQuery>();
  const filter = createMemo(() => parseBoardQuery(search as BoardQuery));
  const setFilter = (change: Partial<BoardFilter>) => setSearch(boardQuery({ ...filter(), ...change }), { replace: true });
  // One pass over the beads per change; each column filtered, then sorted as asked (default: priority, then latest change).
  const columns = createMemo(() => {
    const f = filter();
    const by = Object.fromEntries(BEAD_STATUSES.map((s) => [s, [] as Bead[]])) as Record<BeadStatus, Bead[]>;
    for (const bead of Object.values(rig.beads)) if (bead && matches(bead, f)) by[bead.status]?.push(bead);
    const order = compareBeads(f.sort);
    for (const list of Object.values(by)) list.sort(order);
    return by;
  });
  const statuses = createMemo(() => shownStatuses(filter()));
  const assignees = createMemo(() => rig.agentList().map((a) => a.identity));
  // Acknowledged ones stay until resolved (someone is on them, but they are not done): open ones first.
  const openEscalations = createMemo(() =>
    Object.values(rig.escalations)
      .filter((e) => e && e.status !== "resolved")
      .sort((a, b) => Number(a!.status !== "open") - Number(b!.status !== "open") || b!.createdAt - a!.createdAt),
  );
  // Resolved ones leave the list above; with their notes (how they were answered) they stay readable here.
  const resolvedEscalations = createMemo(() =>
    Object.values(rig.escalations)
      .filter((e) => e?.status === "resolved")
      .sort((a, b) => (b!.resolvedAt ?? b!.createdAt) - (a!.resolvedAt ?? a!.createdAt)),
  );
  return (
    <div>
      <RigHeader />
      <Show when={rig.rig.summary.usage?.hold}>
        {(hold) => (
          <div class="mb-4">
            <HoldNote hold={hold()} />
          </div>
        )}
      </Show>
      <Show when={openEscalations().length}>
        <Panel title={`Unresolved escalations (${openEscalations().length})`} class="mb-4 border-rose-300 dark:border-rose-900" testid="escalations">
          <ul class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
            <For each={openEscalations()}>
              {(e) => (
                <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2" id={`escalation-${e.id}`} data-testid="escalation" data-status={e.status}>
                  <Badge kind="severity" status={e.severity} />
                  <span class="font-medium">{e.title}</span>
                  <Show when={e.status === "acknowledged"}>
                    <span class="text-xs text-zinc-500" data-testid="escalation-acknowledged" title={e.note ?? ""}>
                      acknowledged{e.note ? `: ${e.note}` : ""}
                    </span>
                  </Show>
                  <span class="text-zinc-500">from {e.from}</span>
                  <BeadChip rigBase={base} id={e.beadId} />
                  <span class="ml-auto text-xs text-zinc-500">
                    <Ago at={e.createdAt} />
                  </span>
                  <Show when={town.isOperator}>
                    <EscalationActions rig={rig.rig} escalation={e} compact />
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </Panel>
      </Show>
      <Show when={resolvedEscalations().length}>
        <details class="mb-4 rounded-xl border border-zinc-200 bg-white text-sm dark:border-zinc-800 dark:bg-zinc-900" data-testid="resolved-escalations">
          <summary class="cursor-pointer px-4 py-2 font-medium">Resolved escalations ({resolvedEscalations().length}), with their notes</summary>
          <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
            <For each={resolvedEscalations()}>
              {(e) => (
                <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2" data-testid="resolved-escalation" data-status={e!.status}>
                  <Badge kind="severity" status={e!.severity} />
                  <span class="font-medium">{e!.title}</span>
                  <span class="text-zinc-500">from {e!.from}</span>
                  <BeadChip rigBase={base} id={e!.beadId} />
                  <EscalationNotes escalation={e!} />
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
      <BoardFilters filter={filter()} set={setFilter} assignees={assignees()} />
      <Show when={rig.sync.loaded()} fallback={<BoardSkeleton />}>
        {/* Columns stack on a phone (each its own list, the failed one on screen, not 670 px to the
            right); from md up, side by side, scrolled sideways only when narrower than that. */}
        <div class="pb-2 md:overflow-x-auto" data-testid="board">
          <div
            class="grid grid-cols-1 gap-3 md:min-w-[64rem] md:[grid-template-columns:var(--board-columns)]"
            style={{ "--board-columns": `repeat(${statuses().length}, minmax(0, 1fr))` }}
          >
            <For each={statuses()}>
              {(status) => (
                <section
                  class="flex min-w-0 flex-col rounded-xl border border-zinc-200 bg-zinc-100/60 dark:border-zinc-800 dark:bg-zinc-900/40"
                  data-testid={`column-${status}`}
                >
                  <header class="flex items-center gap-2 px-3 py-2 text-sm font-medium">
                    <span class={`size-2 rounded-full ${DOT[tone("bead", status)]}`} />
                    {label(status)}
                    <span class="ml-auto tabular-nums text-zinc-500" data-testid="column-count">
                      {columns()[status].length}
                    </span>
                    {/* Past the retention count, the longest-closed beads leave the live doc; the
                        rig's summary still counts them, so say how many are not on the board
                        (while filtered, the count is of the matches, and the summary's is not comparable). */}
                    <Show when={!isFiltered(filter()) && (rig.rig.summary.beads[status] ?? 0) > columns()[status].length}>
                      <span
                        class="text-xs text-zinc-500"
                        title="Older beads are kept out of the live board; gt_bead_status still reads them"
                        data-testid="column-archived"
                      >
                        +{rig.rig.summary.beads[status]! - columns()[status].length} older
                      </span>
                    </Show>
                  </header>
                  <Show
                    when={columns()[status].length}
                    fallback={
                      <p class="px-3 pb-4 pt-2 text-xs text-zinc-500">
                        {isFiltered(filter()) ? `No ${label(status)} beads match the filters.` : `No ${label(status)} beads.`}
                      </p>
                    }
                  >
                    <VirtualList
                      items={columns()[status]}
                      rowHeight={compact() ? 52 : 84}
                      maxHeight={stacked() ? "min(45vh, 24rem)" : "min(60vh, 36rem)"}
                      class="px-2"
                      testid={`list-${status}`}
                      label={`${label(status)} beads`}
                    >
                      {(bead) => <BeadCard bead={bead} href={`${base}/beads/${bead.id}`} />}
                    </VirtualList>
                  </Show>
                </section>
              )}
            </For>
          </div>
        </div>
      </Show>
      <div class="mt-4 grid gap-4 lg:grid-cols-2">
        <Panel title={`Agents (${rig.agentList().length})`} testid="agents-panel">
          <AgentTable agents={rig.agentList()} base={base} />
        </Panel>
        <Panel title={`Mail (${rig.mailList().length})`} testid="rig-mail-panel">
          <MailTable mail={rig.mailList().slice(0, 50)} empty="No mail in this rig yet." />
        </Panel>
      </div>
      <div class="mt-4">
        <RigSpendPanel rig={rig.rig} />
      </div>
    </div>
  );
}

const PRIORITY_CHOICES: Priority[] = ["critical", "high", "medium", "low"];

/** The board's filters: which statuses (columns), priority, assignee, text, and the order within a column. */
function BoardFilters(props: { filter: BoardFilter; set: (change: Partial<BoardFilter>) => void; assignees: string[] }) {
  const toggle = <T,>(list: T[], value: T) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  return (
    <div class="mb-3 flex flex-wrap items-center gap-x-4 gap-y-2 text-sm" data-testid="board-filters">
      <label class="flex items-center gap-1.5">
        <span class="shrink-0 whitespace-nowrap text-zinc-500">Find</span>
        <input
          class={`${input} w-40 min-w-0 sm:w-48`}
          type="search"
          placeholder="title, id or body"
          value={props.filter.q}
          onInput={(e) => props.set({ q: e.currentTarget.value })}
          data-testid="board-filter-text"
        />
      </label>
      <ChipFilter
        testid="board-filter-status"
        legend="Statuses shown"
        label="Status"
        choices={BEAD_STATUSES}
        chosen={props.filter.status}
        name={label}
        onToggle={(status) => props.set({ status: toggle(props.filter.status, status) })}
      />
      <ChipFilter
        testid="board-filter-priority"
        legend="Priorities shown"
        label="Priority"
        choices={PRIORITY_CHOICES}
        chosen={props.filter.priority}
        name={(p) => p}
        onToggle={(priority) => props.set({ priority: toggle(props.filter.priority, priority) })}
      />
      <label class="flex items-center gap-1.5">
        <span class="shrink-0 whitespace-nowrap text-zinc-500">Assignee</span>
        <select
          class={input}
          value={props.filter.assignee}
          onChange={(e) => props.set({ assignee: e.currentTarget.value })}
          data-testid="board-filter-assignee"
        >
          <option value="">anyone</option>
          <option value="none">nobody</option>
          <For each={props.assignees}>{(identity) => <option value={identity}>{identity.split("/").pop()}</option>}</For>
          <Show when={props.filter.assignee && props.filter.assignee !== "none" && !props.assignees.includes(props.filter.assignee)}>
            <option value={props.filter.assignee}>{props.filter.assignee}</option>
          </Show>
        </select>
      </label>
      <label class="flex items-center gap-1.5">
        <span class="shrink-0 whitespace-nowrap text-zinc-500">Sort by</span>
        <select
          class={input}
          value={props.filter.sort}
          onChange={(e) => props.set({ sort: e.currentTarget.value as BoardFilter["sort"] })}
          data-testid="board-sort"
        >
          <For each={BOARD_SORTS}>{(sort) => <option value={sort}>{SORT_LABEL[sort]}</option>}</For>
        </select>
      </label>
      <Show when={isFiltered(props.filter) || props.filter.sort !== "priority"}>
        <button
          type="button"
          class={btn}
          onClick={() => props.set({ status: [], priority: [], assignee: "", q: "", sort: "priority" })}
          data-testid="board-filter-clear"
        >
          Clear filters
        </button>
      </Show>
    </div>
  );
}

function BeadCard(props: { bead: Bead; href: string }) {
  return (
    <a
      href={props.href}
      data-testid="bead-card"
      data-bead={props.bead.id}
      class="mb-2 flex h-[76px] flex-col justify-between rounded-lg border border-zinc-200 bg-white p-2.5 text-sm shadow-xs compact:h-11 compact:px-2 compact:py-1 hover:border-zinc-400 focus-visible:outline-2 focus-visible:outline-blue-500 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-600"
    >
      <span class="line-clamp-2 leading-snug compact:line-clamp-1">{props.bead.title}</span>
      <span class="flex min-w-0 items-center gap-2 text-xs text-zinc-500">
        <span class={PRIORITY_MARK[props.bead.priority]} title={`${props.bead.priority} priority`}>
          ▲
        </span>
        <Mono>{shortId(props.bead.id)}</Mono>
        <Show when={props.bead.assignee}>{(a) => <span class="truncate">{a().split("/").pop()}</span>}</Show>
        <Show when={props.bead.convoyId}>
          <span class="ml-auto rounded bg-sky-500/10 px-1 text-sky-700 dark:text-sky-300" title="Part of a convoy">
            convoy
          </span>
        </Show>
      </span>
    </a>
  );
}

/** The board's shape while the rig's document arrives: five columns of placeholder cards. */
function BoardSkeleton() {
  return (
    <div class="overflow-x-hidden" aria-busy="true" data-testid="board-skeleton">
      <span class="sr-only">Loading the board…</span>
      <div class="grid grid-cols-1 gap-3 md:min-w-[64rem] md:grid-cols-5">
        <For each={BEAD_STATUSES}>
          {() => (
            <div class="space-y-2 rounded-xl border border-zinc-200 p-2 dark:border-zinc-800">
              <div class="skeleton h-5 w-24" />
              <div class="skeleton h-[76px]" />
              <div class="skeleton h-[76px]" />
            </div>
          )}
        </For>
      </div>
    </div>
  );
}

/** One filter's choices as toggle chips (none pressed: all shown). */
function ChipFilter<T extends string>(props: {
  testid: string;
  legend: string;
  label: string;
  choices: readonly T[];
  chosen: readonly T[];
  name: (choice: T) => string;
  onToggle: (choice: T) => void;
}) {
  const chip = (on: boolean) =>
    `rounded-full border px-2 py-0.5 text-xs ${on ? "border-blue-500 bg-blue-500/10 text-blue-700 dark:text-blue-300" : "border-zinc-300 text-zinc-600 dark:border-zinc-700 dark:text-zinc-300"}`;
  return (
    <fieldset class="flex flex-wrap items-center gap-1" data-testid={props.testid}>
      <legend class="sr-only">{props.legend}</legend>
      <span class="mr-1 whitespace-nowrap text-zinc-500">{props.label}</span>
      <For each={props.choices}>
        {(choice) => (
          <button type="button" class={chip(props.chosen.includes(choice))} aria-pressed={props.chosen.includes(choice)} onClick={() => props.onToggle(choice)}>
            {props.name(choice)}
          </button>
        )}
      </For>
    </fieldset>
  );
}
