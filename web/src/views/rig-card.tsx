import { For, Show } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import { AGENT_STATUSES, BADGE, BEAD_STATUSES, DOT, label, tone } from "../lib/tone.ts";
import { bytes } from "../lib/time.ts";
import { Ago, Badge, StackBar } from "../ui/kit.tsx";
import { rigAlerts } from "../stores/town.tsx";
import { boundaryGap, plural, polecatCounts, sum } from "../lib/words.ts";
import { RigSpendLine } from "./spend.tsx";

// Kept here too for the views that import it from the card.
export { rigAlerts };

export function RigCard(props: { rig: Rig; href: string }) {
  const s = () => props.rig.summary;
  const beadTotal = () => BEAD_STATUSES.reduce((a, k) => a + (s().beads[k] ?? 0), 0);
  const alerts = () => rigAlerts(props.rig);
  // Polecats apart from the witness and refinery, once the rig room counts them; until then the
  // line says "agents", which is what it counts.
  const polecats = () => polecatCounts(props.rig);
  const workers = () => polecats() ?? s().agents;
  return (
    <li data-testid="rig-card" data-rig={props.rig.name} data-attention={alerts().length > 0 ? "yes" : "no"}>
      <a
        href={props.href}
        class={`block h-full min-w-0 rounded-xl border bg-white p-4 transition compact:p-2.5 hover:border-zinc-400 focus-visible:outline-2 focus-visible:outline-blue-500 dark:bg-zinc-900/60 dark:hover:border-zinc-600 ${
          alerts().some((a) => a.tone === "red")
            ? "border-rose-400/70 dark:border-rose-500/50"
            : alerts().length
              ? "border-amber-400/70 dark:border-amber-500/50"
              : "border-zinc-200 dark:border-zinc-800"
        }`}
      >
        <div class="flex items-start justify-between gap-2">
          <div class="min-w-0">
            <h3 class="truncate font-semibold">{props.rig.name}</h3>
            <p class="truncate font-mono text-xs text-zinc-500 compact:hidden" title={props.rig.gitUrl}>
              {props.rig.gitUrl}
            </p>
          </div>
          <Badge kind="rig" status={props.rig.summary.status ?? props.rig.status} />
        </div>

        <Show when={boundaryGap(props.rig)}>
          {(gap) => (
            <p class="mt-2 compact:mt-1">
              <span
                class="rounded px-1.5 py-0.5 text-xs font-medium text-zinc-600 ring-1 ring-inset ring-zinc-400/60 dark:text-zinc-300"
                data-testid="boundary-gap"
                title={gap()}
              >
                boundary not enforced
              </span>
            </p>
          )}
        </Show>
        <Show when={alerts().length}>
          <p class="mt-2 flex flex-wrap gap-1 compact:mt-1" data-testid="rig-alerts">
            <For each={alerts()}>{(a) => <span class={`rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${BADGE[a.tone]}`}>{a.text}</span>}</For>
          </p>
        </Show>

        <div class="mt-3 compact:mt-1.5">
          <div class="mb-1 flex justify-between text-xs text-zinc-500 compact:hidden">
            <span>Beads</span>
            <span class="tabular-nums" data-testid="bead-total">
              {beadTotal()}
            </span>
          </div>
          <StackBar parts={BEAD_STATUSES.map((k) => ({ tone: tone("bead", k), value: s().beads[k] ?? 0, label: label(k) }))} />
          <dl class="mt-2 grid grid-cols-5 gap-1 text-center text-xs compact:hidden">
            <For each={BEAD_STATUSES}>
              {(k) => (
                <div data-testid={`beads-${k}`} class="min-w-0">
                  <dt class="truncate text-zinc-500">{label(k)}</dt>
                  <dd class="font-medium tabular-nums">{s().beads[k] ?? 0}</dd>
                </div>
              )}
            </For>
          </dl>
        </div>

        <p class="mt-1.5 hidden truncate text-xs text-zinc-500 compact:block" data-testid="rig-card-compact">
          {plural(beadTotal(), "bead")} · {workers().working ?? 0} of {polecats() ? plural(sum(workers()), "polecat") : plural(sum(workers()), "agent")} working
          · {s().queuedMail} mail queued
        </p>

        <div
          class="mt-3 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs compact:hidden"
          data-testid="rig-workers"
          data-counts={polecats() ? "polecats" : "agents"}
        >
          <span
            class="text-zinc-500"
            title={polecats() ? "Polecats only: the witness and refinery are not counted" : "Every agent of the rig, witness and refinery included"}
          >
            {polecats() ? "Polecats" : "Agents"}
          </span>
          <For each={AGENT_STATUSES}>
            {(k) => (
              <span class="inline-flex items-center gap-1" data-testid={`agents-${k}`} title={`${workers()[k] ?? 0} ${k}`}>
                <span class={`size-1.5 rounded-full ${DOT[tone("agent", k)]}`} />
                <span class="tabular-nums font-medium">{workers()[k] ?? 0}</span>
                <span class="text-zinc-500">{k}</span>
              </span>
            )}
          </For>
        </div>

        <RigSpendLine usage={s().usage} />

        <dl class="mt-3 grid grid-cols-3 gap-2 border-t border-zinc-100 pt-2 text-xs compact:hidden dark:border-zinc-800">
          <div class="min-w-0">
            <dt class="truncate text-zinc-500">Mail queued</dt>
            <dd class="font-medium tabular-nums" data-testid="queued-mail">
              {s().queuedMail}
            </dd>
          </div>
          <div class="min-w-0">
            <dt class="truncate text-zinc-500">Last activity</dt>
            <dd class="truncate font-medium">
              <Ago at={s().lastActivity} />
            </dd>
          </div>
          <div class="min-w-0">
            <dt class="truncate text-zinc-500">Disk</dt>
            <dd class="font-medium tabular-nums">{bytes(s().diskBytes)}</dd>
          </div>
        </dl>
      </a>
    </li>
  );
}
