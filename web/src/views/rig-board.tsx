/** Rig drill-down: unresolved escalations (with their actions), a bead board with a (virtualised) column per status, agents, mail. */
import { For, Show, createMemo, lazy } from "solid-js";
import type { Bead, BeadStatus } from "../../../party/protocol.ts";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { BEAD_STATUSES, DOT, label, tone } from "../lib/tone.ts";
import { shortId } from "../lib/time.ts";
import { Ago, Badge, Mono, Panel } from "../ui/kit.tsx";
import { compact } from "../lib/density.ts";
import { VirtualList } from "../ui/virtual-list.tsx";
import { RigHeader } from "./rig-header.tsx";
import { AgentTable } from "./agent-table.tsx";
import { MailTable } from "./mail-table.tsx";
import { HoldNote, RigSpendPanel } from "./spend.tsx";
import { EscalationNotes } from "./escalation-notes.tsx";

// Operator-only code (and zod, through the tools) is loaded only when an operator's controls show.
const EscalationActions = lazy(() => import("../actions/escalation-actions.tsx"));

const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;
const PRIORITY_MARK = { critical: "text-rose-500", high: "text-amber-500", medium: "text-zinc-400", low: "text-zinc-300 dark:text-zinc-600" } as const;

export default function RigBoard() {
  const rig = useRig();
  const town = useTown();
  const base = `/t/${town.town}/rigs/${rig.rig.name}`;
  // One pass over the beads per change; each column sorted by priority, then most recently changed.
  const columns = createMemo(() => {
    const by = Object.fromEntries(BEAD_STATUSES.map((s) => [s, [] as Bead[]])) as Record<BeadStatus, Bead[]>;
    for (const bead of Object.values(rig.beads)) if (bead) by[bead.status]?.push(bead);
    for (const list of Object.values(by)) list.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || b.updatedAt - a.updatedAt);
    return by;
  });
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
                  <Show when={e.beadId}>
                    {(id) => (
                      <a class="font-mono text-xs underline" href={`${base}/beads/${id()}`}>
                        {shortId(id())}
                      </a>
                    )}
                  </Show>
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
                  <Show when={e!.beadId}>
                    {(id) => (
                      <a class="font-mono text-xs underline" href={`${base}/beads/${id()}`}>
                        {shortId(id())}
                      </a>
                    )}
                  </Show>
                  <EscalationNotes escalation={e!} />
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
      <Show when={rig.sync.loaded()} fallback={<BoardSkeleton />}>
        <div class="-mx-3 overflow-x-auto px-3 pb-2 sm:mx-0 sm:px-0" data-testid="board">
          <div class="grid min-w-[64rem] grid-cols-5 gap-3">
            <For each={BEAD_STATUSES}>
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
                        rig's summary still counts them, so say how many are not on the board. */}
                    <Show when={(rig.rig.summary.beads[status] ?? 0) > columns()[status].length}>
                      <span
                        class="text-xs text-zinc-500"
                        title="Older beads are kept out of the live board; gt_bead_status still reads them"
                        data-testid="column-archived"
                      >
                        +{rig.rig.summary.beads[status]! - columns()[status].length} older
                      </span>
                    </Show>
                  </header>
                  <Show when={columns()[status].length} fallback={<p class="px-3 pb-4 pt-2 text-xs text-zinc-500">No {label(status)} beads.</p>}>
                    <VirtualList
                      items={columns()[status]}
                      rowHeight={compact() ? 52 : 84}
                      maxHeight="min(60vh, 36rem)"
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
    <div class="-mx-3 overflow-x-hidden px-3 sm:mx-0 sm:px-0" aria-busy="true" data-testid="board-skeleton">
      <span class="sr-only">Loading the board…</span>
      <div class="grid min-w-[64rem] grid-cols-5 gap-3">
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
