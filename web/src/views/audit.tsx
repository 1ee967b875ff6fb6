/**
 * Who did what (gt_audit), for operators: a bead's or an agent's entries from its rig's trail, or
 * the town's trail (its own page). Each entry says who (the token's subject, role and id), what,
 * when and the note; newest first, with "Older" for the next page. Loaded only for operators (it
 * calls tools, which loads zod): share links and viewers never see the trail (the rooms refuse them).
 */
import { For, Show, createEffect, createSignal, on } from "solid-js";
import type { AuditEntry, AuditPage, Rig } from "../../../party/protocol.ts";
import { describe, rigTool, townTool } from "../actions/api.ts";
import { useTown } from "../stores/town.tsx";
import { setTitle } from "../lib/title.ts";
import { Ago, Mono, Panel, btn } from "../ui/kit.tsx";

const PAGE = 20;

/** The trail of a rig (by bead or agent) or of the town. `watch`: read again when it changes (e.g. the bead's rev). */
export function AuditTrail(props: { rig?: Rig; bead?: string; agent?: string; watch?: () => unknown; title?: string; testid?: string }) {
  const town = useTown();
  const [entries, setEntries] = createSignal<AuditEntry[]>([]);
  const [older, setOlder] = createSignal<number | null>(null);
  const [dropped, setDropped] = createSignal<{ kept: number } | null>(null);
  const [state, setState] = createSignal<"loading" | "ready" | "failed">("loading");
  const [error, setError] = createSignal("");
  const read = (before?: number) => {
    const args = { limit: PAGE, ...(props.bead ? { bead_id: props.bead } : {}), ...(props.agent ? { agent: props.agent } : {}), ...(before ? { before } : {}) };
    return props.rig ? rigTool<AuditPage>(town, props.rig, "gt_audit", args) : townTool<AuditPage>(town, "gt_audit", args);
  };
  const load = async (before?: number) => {
    try {
      const page = await read(before);
      setEntries((list) => (before ? [...list, ...page.entries] : page.entries));
      setOlder(page.older);
      setDropped(page.dropped && page.older === null ? { kept: page.kept } : null);
      setState("ready");
    } catch (e) {
      setError(describe(e));
      setState("failed");
    }
  };
  createEffect(
    on(
      () => [props.rig?.id, props.bead, props.agent, props.watch?.()],
      () => void load(),
    ),
  );
  return (
    <Panel
      title={props.title ?? "Who did what"}
      testid={props.testid ?? "audit"}
      actions={
        <button class={`${btn} text-xs`} onClick={() => void load()} data-testid="audit-refresh">
          Refresh
        </button>
      }
    >
      <Show when={state() !== "loading"} fallback={<p class="px-4 py-3 text-sm text-zinc-500">Reading the audit trail…</p>}>
        <Show
          when={state() === "ready"}
          fallback={
            <p class="px-4 py-3 text-sm text-rose-600" data-testid="audit-error">
              Could not read the audit trail: {error()}
            </p>
          }
        >
          <Show
            when={entries().length}
            fallback={
              <p class="px-4 py-3 text-sm text-zinc-500" data-testid="audit-empty">
                {dropped() ? `No operator action recorded among the last ${dropped()!.kept} kept.` : "No operator action recorded yet."}
              </p>
            }
          >
            <ol class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
              <For each={entries()}>{(entry) => <AuditRow entry={entry} />}</For>
            </ol>
          </Show>
          <Show when={older() !== null}>
            <div class="px-4 py-2">
              <button class={btn} onClick={() => void load(older()!)} data-testid="audit-older">
                Older
              </button>
            </div>
          </Show>
          <Show when={dropped() && entries().length}>
            <p class="px-4 py-2 text-xs text-zinc-500" data-testid="audit-dropped">
              Older actions are not kept: this room keeps its last {dropped()!.kept}.
            </p>
          </Show>
        </Show>
      </Show>
    </Panel>
  );
}

function AuditRow(props: { entry: AuditEntry }) {
  const e = props.entry;
  return (
    <li class="flex flex-wrap items-baseline gap-x-3 gap-y-0.5 px-4 py-2" data-testid="audit-entry" data-action={e.action}>
      <span class="font-medium" data-testid="audit-who" title={`${e.who.role} token ${e.who.jti}${e.who.rig ? ` (rig ${e.who.rig})` : ""}`}>
        {e.who.sub}
      </span>
      <span class="text-xs text-zinc-500">
        {e.who.role} <Mono>{e.who.jti.slice(-8)}</Mono>
      </span>
      {/* On a phone the time sits beside who, and what was done gets its own line. */}
      <span class="ml-auto text-xs text-zinc-500 sm:order-last" title={new Date(e.at).toISOString()}>
        <Ago at={e.at} />
      </span>
      <span class="min-w-0 basis-full sm:basis-0 sm:flex-1" data-testid="audit-what">
        {e.text}
      </span>
      <Show when={e.note}>
        <p class="order-last w-full text-zinc-600 dark:text-zinc-300" data-testid="audit-note">
          Note: {e.note}
        </p>
      </Show>
    </li>
  );
}

/** The town's trail, its own page (town-wide operators; the town room refuses others, and this says so). */
export default function TownAuditPage() {
  const town = useTown();
  setTitle("audit", town.town);
  const townWide = town.session.rig === null && town.session.view === null;
  return (
    <div class="space-y-4">
      <h1 class="text-lg font-semibold">Audit trail</h1>
      <Show
        when={town.isOperator && townWide}
        fallback={
          <Panel title="Who did what" testid="audit">
            <p class="px-4 py-3 text-sm text-zinc-500" data-testid="audit-refused">
              The town's audit trail is for town-wide operators. {town.isOperator ? "A rig's operators read their rig's on its beads' and agents' pages." : ""}
            </p>
          </Panel>
        }
      >
        <p class="text-sm text-zinc-500">
          The town's actions: rigs added, updated and removed, slings, convoys, budgets, read-only links and town mail. Actions on a rig's beads, agents and
          escalations are on their own pages.
        </p>
        <AuditTrail title="Who did what in the town" />
      </Show>
    </div>
  );
}
