/**
 * The attention lane, at the top of the overview: what needs a person right now, worst first,
 * across every rig (failed beads, open escalations, stalled, hung or dead agents, mail waiting on
 * agents that finished, rigs in error). Each row links to where the problem is; operators also get
 * its action inline. Duplicates (same rig, kind and title) show as one row with a count that opens
 * to its members; items snoozed in this browser leave the lane and its count until their time
 * (stores/lane.tsx). Read from the town document alone.
 */
import { For, Show, createMemo, createSignal, lazy } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { useLane } from "../stores/lane.tsx";
import { beadOf, groupLane, occurrence, type Lane, type LaneGroup } from "../lib/attention.ts";
import { SNOOZE_CHOICES, type SnoozeChoice } from "../lib/snooze.ts";
import type { AttentionItem, Rig, TownUsage } from "../../../party/protocol.ts";
import { budgetUse } from "../lib/usage.ts";
import { BADGE, tone as toneOf, type Tone } from "../lib/tone.ts";
import { absolute, shortId } from "../lib/time.ts";
import { plural } from "../lib/words.ts";
import { Ago, btn } from "../ui/kit.tsx";

const AttentionActions = lazy(() => import("../actions/attention-actions.tsx"));
const LaneMoveDialog = lazy(() => import("../actions/attention-actions.tsx").then((m) => ({ default: m.LaneMoveDialog })));
const BulkAcknowledge = lazy(() => import("../actions/escalation-actions.tsx").then((m) => ({ default: m.BulkAcknowledge })));

/** Rows (a group is one) shown before "show all": the lane should be read at a glance, not scrolled. */
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

const small = `${btn} px-2 py-0.5 text-xs`;
const chip = "rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs text-zinc-700 hover:underline dark:bg-zinc-800 dark:text-zinc-300";

/** Escalations an operator may acknowledge together: the lane's open ones. */
const selectable = (row: Lane) => row.item.kind === "escalation";

export function AttentionLane() {
  const town = useTown();
  const lane = useLane();
  const [all, setAll] = createSignal(false);
  const [showSnoozed, setShowSnoozed] = createSignal(false);
  const [expanded, setExpanded] = createSignal<ReadonlySet<string>>(new Set());
  const [picked, setPicked] = createSignal<ReadonlySet<string>>(new Set());
  const [moving, setMoving] = createSignal<Lane | null>(null);
  const [bulkResult, setBulkResult] = createSignal<string | null>(null);
  // Only a summary that lists attention can vouch that nothing needs it (an older room sends none).
  const vouched = createMemo(() => town.sortedRigs().every((r) => Array.isArray(r.summary.attention)));
  const groups = createMemo(() => groupLane(lane.open()));
  const shown = createMemo(() => (all() ? groups() : groups().slice(0, FIRST)));
  // What is picked and still open (an escalation acknowledged elsewhere leaves the selection).
  const selected = createMemo(() => lane.open().filter((r) => selectable(r) && picked().has(r.key)));
  const toggle = (set: ReadonlySet<string>, keys: string[], on: boolean) => {
    const next = new Set(set);
    for (const k of keys) on ? next.add(k) : next.delete(k);
    return next;
  };
  const pick = (rows: Lane[], on: boolean) =>
    setPicked((p) =>
      toggle(
        p,
        rows.map((r) => r.key),
        on,
      ),
    );
  const rowProps = { pick, picked, onMove: setMoving };
  return (
    <Show when={town.sync.loaded()}>
      <Show
        when={lane.all().length}
        fallback={
          <Show when={vouched()}>
            <div
              class="flex flex-wrap items-center gap-2 rounded-xl border border-emerald-300/60 bg-emerald-500/5 px-4 py-2 text-sm text-emerald-800 dark:border-emerald-900 dark:text-emerald-300"
              data-testid="attention-clear"
            >
              <p class="flex-1">
                <span aria-hidden="true">✓</span> Nothing needs you: no failed beads, open escalations or stuck agents.
              </p>
              <NotifyControl />
            </div>
          </Show>
        }
      >
        <section
          class="rounded-xl border border-rose-300/70 bg-white dark:border-rose-900/70 dark:bg-zinc-900/60"
          data-testid="attention"
          aria-labelledby="attention-title"
        >
          <header class="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
            <h2 id="attention-title" class="text-sm font-semibold text-zinc-700 dark:text-zinc-200">
              Needs attention{" "}
              <span
                class="ml-1 rounded-full bg-rose-500/10 px-1.5 text-xs tabular-nums text-rose-700 dark:text-rose-300"
                data-testid="attention-count"
                title={lane.snoozed().length ? "Items not snoozed (the tab's title counts the same)" : "Items (the tab's title counts the same)"}
              >
                {lane.open().length}
              </span>
            </h2>
            <div class="flex flex-wrap items-center gap-2">
              <Show when={lane.snoozed().length}>
                <button
                  class={small}
                  aria-pressed={showSnoozed()}
                  data-testid="attention-snoozed-toggle"
                  title="Snoozed in this browser: not counted, not notified, back when their time is up or when they happen again"
                  onClick={() => setShowSnoozed(!showSnoozed())}
                >
                  {showSnoozed() ? `Hide ${lane.snoozed().length} snoozed` : `${lane.snoozed().length} snoozed (not counted)`}
                </button>
              </Show>
              <NotifyControl />
            </div>
          </header>
          <Show when={!lane.open().length}>
            <p class="px-4 py-2 text-sm text-zinc-600 dark:text-zinc-400" data-testid="attention-all-snoozed">
              Nothing else needs you: {plural(lane.snoozed().length, "item is", "items are")} snoozed in this browser.
            </p>
          </Show>
          <Show when={town.isOperator && selected().length}>
            <BulkAcknowledge
              rows={selected()}
              onDone={(keys, said) => {
                setBulkResult(said);
                setPicked((p) => toggle(p, keys, false));
              }}
              onClear={() => setPicked(new Set<string>())}
            />
          </Show>
          <Show when={bulkResult()}>
            <p
              role="status"
              class="border-b border-zinc-200 px-4 py-1.5 text-xs text-zinc-700 dark:border-zinc-800 dark:text-zinc-300"
              data-testid="bulk-result"
            >
              {bulkResult()}{" "}
              <button class="underline" data-testid="bulk-result-dismiss" onClick={() => setBulkResult(null)}>
                Dismiss
              </button>
            </p>
          </Show>
          <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
            <For each={shown()}>
              {(group) => (
                <Show when={group.rows.length > 1} fallback={<Row row={group.rows[0]!} {...rowProps} />}>
                  <Group
                    group={group}
                    open={expanded().has(group.key)}
                    onToggle={() => setExpanded((e) => toggle(e, [group.key], !e.has(group.key)))}
                    {...rowProps}
                  />
                </Show>
              )}
            </For>
          </ul>
          <Show when={groups().length > FIRST}>
            <button
              class="w-full border-t border-zinc-200 px-4 py-1.5 text-left text-xs text-zinc-600 hover:bg-zinc-50 dark:border-zinc-800 dark:text-zinc-400 dark:hover:bg-zinc-800/40"
              onClick={() => setAll(!all())}
              data-testid="attention-all"
            >
              {all() ? "Show the worst first only" : `Show all ${groups().length} rows`}
            </button>
          </Show>
          <Show when={showSnoozed() && lane.snoozed().length}>
            <div class="border-t border-zinc-200 dark:border-zinc-800" data-testid="attention-snoozed">
              <p class="px-4 pt-2 text-xs font-medium text-zinc-500">Snoozed in this browser</p>
              <ul class="divide-y divide-zinc-100 opacity-75 dark:divide-zinc-800/70">
                <For each={lane.snoozed()}>{(row) => <Row row={row} snoozedUntil={lane.snoozes.snoozes()[occurrence(row)]} {...rowProps} />}</For>
              </ul>
            </div>
          </Show>
        </section>
      </Show>
      <Show when={town.isOperator}>
        <LaneMoveDialog row={moving()} onClose={() => setMoving(null)} />
      </Show>
    </Show>
  );
}

type RowProps = {
  pick: (rows: Lane[], on: boolean) => void;
  picked: () => ReadonlySet<string>;
  onMove: (row: Lane) => void;
};

/** Duplicates as one row: the shared title with ×N, opening to the members (each with its own actions). */
function Group(props: RowProps & { group: LaneGroup; open: boolean; onToggle: () => void }) {
  const town = useTown();
  const lane = useLane();
  const first = () => props.group.rows[0]!;
  const newest = () => Math.max(...props.group.rows.map((r) => r.item.at));
  const pickable = () => props.group.rows.filter(selectable);
  const allPicked = () => pickable().length > 0 && pickable().every((r) => props.picked().has(r.key));
  const listId = () => `attention-group-${props.group.key.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  return (
    <li data-testid="attention-group" data-kind={first().item.kind} data-rig={first().rig.name} data-count={props.group.rows.length}>
      <div class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm">
        <Show when={town.isOperator}>
          <Show when={pickable().length} fallback={<span class="size-4 shrink-0" aria-hidden="true" />}>
            <input
              type="checkbox"
              class="size-4"
              aria-label={`Select all ${props.group.rows.length} of this group`}
              title="Select all of this group"
              data-testid="attention-select-group"
              checked={allPicked()}
              onChange={(e) => props.pick(pickable(), e.currentTarget.checked)}
            />
          </Show>
        </Show>
        <Badge item={first().item} />
        <div class="min-w-0 flex-1 basis-48">
          <button
            class="text-left font-medium hover:underline focus-visible:outline-2 focus-visible:outline-blue-500"
            aria-expanded={props.open}
            aria-controls={listId()}
            data-testid="attention-expand"
            onClick={() => props.onToggle()}
          >
            <span aria-hidden="true" class="mr-1 inline-block w-3 text-zinc-400">
              {props.open ? "▾" : "▸"}
            </span>
            {props.group.title}{" "}
            <span
              class="ml-1 rounded-full bg-zinc-200/80 px-1.5 text-xs tabular-nums text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
              data-testid="attention-group-count"
            >
              ×{props.group.rows.length}
            </span>
          </button>
          <p class="break-words text-xs text-zinc-500" data-testid="attention-detail">
            <span class="font-medium text-zinc-600 dark:text-zinc-400">{first().rig.name}</span> · {plural(props.group.rows.length, "item")}, the newest{" "}
            <Ago at={newest()} />
          </p>
        </div>
        <SnoozeMenu
          rows={props.group.rows}
          label={`Snooze all ${props.group.rows.length}`}
          onSnooze={(rows, c) => lane.snoozes.snooze(rows.map(occurrence), c)}
        />
      </div>
      <Show when={props.open}>
        <ul id={listId()} class="divide-y divide-zinc-100 border-t border-zinc-100 pl-6 dark:divide-zinc-800/70 dark:border-zinc-800/70">
          <For each={props.group.rows}>{(row) => <Row row={row} {...props} />}</For>
        </ul>
      </Show>
    </li>
  );
}

function Badge(props: { item: AttentionItem }) {
  return (
    <span class={`w-24 shrink-0 rounded px-1.5 py-0.5 text-center text-xs font-medium ring-1 ring-inset ${BADGE[itemTone(props.item)]}`}>
      {props.item.kind === "escalation" && props.item.severity ? props.item.severity : KIND_LABEL[props.item.kind]}
    </span>
  );
}

function Row(props: RowProps & { row: Lane; snoozedUntil?: number | undefined }) {
  const town = useTown();
  const lane = useLane();
  const row = () => props.row;
  const bead = () => beadOf(row().item);
  const beadHref = (id: string) => `/t/${town.town}/rigs/${encodeURIComponent(row().rig.name)}/beads/${id}`;
  return (
    <li
      class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm"
      data-testid="attention-item"
      data-kind={row().item.kind}
      data-id={row().item.id}
      data-rig={row().rig.name}
      data-bead={bead()}
      data-snoozed={props.snoozedUntil ? "" : undefined}
    >
      <Show when={town.isOperator}>
        <Show when={selectable(row()) && !props.snoozedUntil} fallback={<span class="size-4 shrink-0" aria-hidden="true" />}>
          <input
            type="checkbox"
            class="size-4"
            aria-label={`Select ${row().item.title}`}
            data-testid="attention-select"
            checked={props.picked().has(row().key)}
            onChange={(e) => props.pick([row()], e.currentTarget.checked)}
          />
        </Show>
      </Show>
      <Badge item={row().item} />
      <div class="min-w-0 flex-1 basis-48">
        <a href={row().href} class="font-medium hover:underline focus-visible:outline-2 focus-visible:outline-blue-500" data-testid="attention-link">
          {row().item.title}
        </a>
        <Show when={bead()}>
          {(id) => (
            <a href={beadHref(id())} class={`ml-2 ${chip}`} title={`Bead ${id()}`} data-testid="attention-bead" data-bead={id()}>
              {shortId(id())}
            </a>
          )}
        </Show>
        <p class="break-words text-xs text-zinc-500" data-testid="attention-detail">
          <span class="font-medium text-zinc-600 dark:text-zinc-400">{row().rig.name}</span> · {row().item.detail} · <Ago at={row().item.at} />
        </p>
        <Show when={row().item.kind === "budget" && budgetFigures(row().rig, town.usage())}>
          {(figures) => (
            <p class="text-xs text-zinc-600 dark:text-zinc-300" data-testid="attention-budget-figures">
              {figures()}
            </p>
          )}
        </Show>
      </div>
      <Show
        when={props.snoozedUntil}
        fallback={
          <>
            <Show when={town.isOperator && row().item.kind !== "rig_error" && row().item.kind !== "stuck_convoy"}>
              <AttentionActions row={row()} onMove={props.onMove} />
            </Show>
            <SnoozeMenu rows={[row()]} label="Snooze" onSnooze={(rows, c) => lane.snoozes.snooze(rows.map(occurrence), c)} />
          </>
        }
      >
        {(until) => (
          <span class="inline-flex items-center gap-1.5 text-xs text-zinc-500">
            <span data-testid="attention-snoozed-until">snoozed until {absolute(until())}</span>
            <button class={small} data-testid="attention-unsnooze" onClick={() => lane.snoozes.unsnooze([occurrence(row())])}>
              Unsnooze
            </button>
          </span>
        )}
      </Show>
    </li>
  );
}

/** Snooze in this browser: the choice applies at once, and the select goes back to its label. */
function SnoozeMenu(props: { rows: Lane[]; label: string; onSnooze: (rows: Lane[], choice: SnoozeChoice) => void }) {
  return (
    <select
      class="w-32 shrink-0 rounded-md bg-white py-0.5 pl-2 pr-7 text-xs text-zinc-700 ring-1 ring-inset ring-zinc-300 dark:bg-zinc-900 dark:text-zinc-300 dark:ring-zinc-700"
      aria-label={`${props.label} in this browser`}
      title="Hide from this browser's lane, count and notifications; it comes back when the time is up or when it happens again"
      data-testid="attention-snooze"
      onChange={(e) => {
        const choice = e.currentTarget.value as SnoozeChoice | "";
        e.currentTarget.value = "";
        if (choice) props.onSnooze(props.rows, choice);
      }}
    >
      <option value="">{props.label}…</option>
      <For each={SNOOZE_CHOICES}>{(c) => <option value={c.choice}>{c.label}</option>}</For>
    </select>
  );
}

/** Opt-in browser notifications for new items (lib/notify.ts): the permission is asked only on this click. */
function NotifyControl() {
  const lane = useLane();
  const state = () => lane.notify.state();
  return (
    <Show
      when={state() !== "blocked"}
      fallback={
        <span class="text-xs text-zinc-500" data-testid="notify-blocked">
          Notifications are blocked in this browser's settings
        </span>
      }
    >
      <Show when={state() !== "unsupported"}>
        <button
          class={small}
          aria-pressed={state() === "on"}
          data-testid="notify-toggle"
          data-state={state()}
          title="A browser notification for each new item while this tab is hidden (remembered in this browser)"
          onClick={() => (state() === "on" ? lane.notify.disable() : void lane.notify.enable())}
        >
          {state() === "on" ? "Notifying when hidden" : "Notify me"}
        </button>
      </Show>
    </Show>
  );
}
