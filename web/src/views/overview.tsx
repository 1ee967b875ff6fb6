/** The town at a glance: every rig's live summary (attention first), convoys, activity. */
import { For, Show, createMemo, lazy } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { Empty, Loading, Panel, SyncBadge } from "../ui/kit.tsx";
import { RigCard } from "./rig-card.tsx";
import { ConvoyList } from "./convoy-list.tsx";
import { Feed } from "./feed.tsx";

const OverviewActions = lazy(() => import("../actions/overview-actions.tsx"));

export default function Overview() {
  const town = useTown();
  const base = `/t/${town.town}`;
  const totals = createMemo(() => {
    let working = 0;
    let agents = 0;
    let active = 0;
    for (const rig of town.sortedRigs()) {
      const s = rig.summary;
      working += s.agents.working ?? 0;
      agents += Object.values(s.agents).reduce((n, c) => n + (c ?? 0), 0);
      active += (s.beads.open ?? 0) + (s.beads.in_progress ?? 0) + (s.beads.in_review ?? 0);
    }
    return { working, agents, active };
  });
  return (
    <div class="space-y-4">
      <div class="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 class="text-xl font-semibold">Overview</h1>
          <p class="text-sm text-zinc-500" data-testid="town-totals">
            {town.sortedRigs().length} rigs · {totals().working} of {totals().agents} agents working · {totals().active} beads active
          </p>
        </div>
        <Show when={town.isOperator}>
          <OverviewActions />
        </Show>
      </div>
      <div class="grid gap-4 lg:grid-cols-3">
        <section class="lg:col-span-2" aria-label="Rigs">
          <Show when={town.sync.loaded()} fallback={<Loading what="rigs" />}>
            <Show
              when={town.sortedRigs().length}
              fallback={
                <Panel title="Rigs">
                  <Empty title="This town has no rigs yet.">{town.isOperator ? "Add a git repository as a rig to start slinging work to it." : "An operator adds rigs; they will appear here live."}</Empty>
                </Panel>
              }
            >
              <ul class="grid gap-3 sm:grid-cols-2" data-testid="rig-list">
                <For each={town.sortedRigs()}>{(rig) => <RigCard rig={rig} href={`${base}/rigs/${rig.name}`} />}</For>
              </ul>
            </Show>
          </Show>
        </section>
        <div class="space-y-4">
          <Panel title="Convoys" testid="convoys-panel" actions={<SyncBadge sync={town.sync} label="Convoys" />}>
            <ConvoyList convoys={Object.values(town.convoys).filter(Boolean)} base={base} />
          </Panel>
          <Panel title="Activity" testid="activity-panel" actions={<SyncBadge sync={town.sync} label="Activity" />}>
            <div class="max-h-[28rem] overflow-y-auto">
              <Feed events={town.events()} />
            </div>
          </Panel>
        </div>
      </div>
    </div>
  );
}
