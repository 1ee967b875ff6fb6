import { For, Show } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import { AGENT_STATUSES, BADGE, BEAD_STATUSES, DOT, label, tone, type Tone } from "../lib/tone.ts";
import { bytes } from "../lib/time.ts";
import { Ago, Badge, StackBar } from "../ui/kit.tsx";

/** What needs a person in this rig, in words; empty when nothing does. */
export function rigAlerts(rig: Rig): { text: string; tone: Tone }[] {
  const s = rig.summary;
  const alerts: { text: string; tone: Tone }[] = [];
  if (rig.status === "error") alerts.push({ text: "clone failed", tone: "red" });
  if (s.agents.dead) alerts.push({ text: `${s.agents.dead} dead`, tone: "red" });
  if (s.agents.stalled) alerts.push({ text: `${s.agents.stalled} stalled`, tone: "amber" });
  if (s.agents.hung) alerts.push({ text: `${s.agents.hung} hung`, tone: "amber" });
  if (s.beads.failed) alerts.push({ text: `${s.beads.failed} failed`, tone: "red" });
  if (s.openEscalations) alerts.push({ text: `${s.openEscalations} escalation${s.openEscalations === 1 ? "" : "s"}`, tone: "amber" });
  return alerts;
}

export function RigCard(props: { rig: Rig; href: string }) {
  const s = () => props.rig.summary;
  const beadTotal = () => BEAD_STATUSES.reduce((a, k) => a + (s().beads[k] ?? 0), 0);
  const alerts = () => rigAlerts(props.rig);
  return (
    <li data-testid="rig-card" data-rig={props.rig.name} data-attention={alerts().length > 0 ? "yes" : "no"}>
      <a
        href={props.href}
        class={`block h-full rounded-xl border bg-white p-4 transition hover:border-zinc-400 focus-visible:outline-2 focus-visible:outline-blue-500 dark:bg-zinc-900/60 dark:hover:border-zinc-600 ${
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
            <p class="truncate font-mono text-xs text-zinc-500" title={props.rig.gitUrl}>
              {props.rig.gitUrl}
            </p>
          </div>
          <Badge kind="rig" status={props.rig.summary.status ?? props.rig.status} />
        </div>

        <Show when={alerts().length}>
          <p class="mt-2 flex flex-wrap gap-1" data-testid="rig-alerts">
            <For each={alerts()}>{(a) => <span class={`rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${BADGE[a.tone]}`}>{a.text}</span>}</For>
          </p>
        </Show>

        <div class="mt-3">
          <div class="mb-1 flex justify-between text-xs text-zinc-500">
            <span>Beads</span>
            <span class="tabular-nums" data-testid="bead-total">
              {beadTotal()}
            </span>
          </div>
          <StackBar parts={BEAD_STATUSES.map((k) => ({ tone: tone("bead", k), value: s().beads[k] ?? 0, label: label(k) }))} />
          <dl class="mt-2 grid grid-cols-5 gap-1 text-center text-xs">
            <For each={BEAD_STATUSES}>
              {(k) => (
                <div data-testid={`beads-${k}`}>
                  <dt class="truncate text-zinc-500">{label(k)}</dt>
                  <dd class="font-medium tabular-nums">{s().beads[k] ?? 0}</dd>
                </div>
              )}
            </For>
          </dl>
        </div>

        <div class="mt-3 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs">
          <For each={AGENT_STATUSES}>
            {(k) => (
              <span class="inline-flex items-center gap-1" data-testid={`agents-${k}`} title={`${s().agents[k] ?? 0} ${k}`}>
                <span class={`size-1.5 rounded-full ${DOT[tone("agent", k)]}`} />
                <span class="tabular-nums font-medium">{s().agents[k] ?? 0}</span>
                <span class="text-zinc-500">{k}</span>
              </span>
            )}
          </For>
        </div>

        <dl class="mt-3 grid grid-cols-3 gap-2 border-t border-zinc-100 pt-2 text-xs dark:border-zinc-800">
          <div>
            <dt class="text-zinc-500">Mail queued</dt>
            <dd class="font-medium tabular-nums" data-testid="queued-mail">
              {s().queuedMail}
            </dd>
          </div>
          <div>
            <dt class="text-zinc-500">Last activity</dt>
            <dd class="font-medium">
              <Ago at={s().lastActivity} />
            </dd>
          </div>
          <div>
            <dt class="text-zinc-500">Disk</dt>
            <dd class="font-medium tabular-nums">{bytes(s().diskBytes)}</dd>
          </div>
        </dl>
      </a>
    </li>
  );
}
