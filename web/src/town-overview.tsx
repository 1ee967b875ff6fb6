import { For, Show, createMemo } from "solid-js";
import { useParams, useSearchParams } from "@solidjs/router";
import type { Rig } from "../../party/protocol.ts";
import { createLiveMap } from "./live-doc.ts";

function StatusBadge(props: { status: string; since: number | null }) {
  const tone = () => (props.status === "live" ? "bg-emerald-500/20 text-emerald-300" : props.status === "closed" ? "bg-rose-500/20 text-rose-300" : "bg-amber-500/20 text-amber-300");
  return (
    <span class={`rounded-full px-2 py-0.5 text-xs ${tone()}`} data-testid="sync-status">
      {props.status}
      <Show when={props.status !== "live" && props.since}>{(since) => <> since {new Date(since()).toLocaleTimeString()}</>}</Show>
    </span>
  );
}

export function TownOverview() {
  const params = useParams<{ town: string }>();
  const [search] = useSearchParams<{ token: string }>();
  const rigs = createLiveMap<Rig>({ party: "main", room: params.town, token: search.token ?? "" }, "rigs");
  const sorted = createMemo(() => Object.values(rigs.rows).sort((a, b) => a.name.localeCompare(b.name)));

  return (
    <main class="mx-auto max-w-5xl p-6">
      <header class="flex items-center justify-between">
        <h1 class="text-2xl font-semibold">
          Town <span class="text-sky-300">{params.town}</span>
        </h1>
        <StatusBadge status={rigs.status()} since={rigs.staleSince()} />
      </header>
      <Show when={sorted().length > 0} fallback={<p class="mt-8 text-slate-400">No rigs yet. Add one with gt_rig_add.</p>}>
        <ul class="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <For each={sorted()}>
            {(rig) => (
              <li class="rounded-lg border border-slate-800 bg-slate-900 p-4" data-testid="rig-card">
                <div class="flex items-baseline justify-between">
                  <h2 class="text-lg font-medium">{rig.name}</h2>
                  <span class="text-xs text-slate-400">{rig.status}</span>
                </div>
                <p class="mt-1 truncate text-xs text-slate-500">{rig.gitUrl}</p>
                <dl class="mt-3 grid grid-cols-3 gap-2 text-center text-sm">
                  <div>
                    <dt class="text-slate-400">open</dt>
                    <dd>{rig.summary.beads.open + rig.summary.beads.in_progress + rig.summary.beads.in_review}</dd>
                  </div>
                  <div>
                    <dt class="text-slate-400">agents</dt>
                    <dd>{Object.values(rig.summary.agents).reduce((a, b) => a + b, 0)}</dd>
                  </div>
                  <div>
                    <dt class="text-slate-400">mail waiting</dt>
                    <dd data-testid="queued-mail">{rig.summary.queuedMail}</dd>
                  </div>
                </dl>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </main>
  );
}
