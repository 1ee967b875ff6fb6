/** The town at a glance: what needs attention first, every rig's live summary, throughput and load, convoys, activity. */
import { For, Show, createMemo, lazy } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { Empty, Loading, Panel, SyncBadge } from "../ui/kit.tsx";
import { RigCard } from "./rig-card.tsx";
import { ConvoyList } from "./convoy-list.tsx";
import { Feed } from "./feed.tsx";
import { AttentionLane } from "./attention.tsx";
import { RigLoadPanelBody } from "./rig-load.tsx";
import { plural } from "../lib/words.ts";
import { costText } from "../lib/usage.ts";
import { TownSpendPanel } from "./spend.tsx";
import { NotInLink, NotInReach } from "../shell/not-in-reach.tsx";

const OverviewActions = lazy(() => import("../actions/overview-actions.tsx"));

export default function Overview() {
  const town = useTown();
  // A rig, bead or agent link and a convoy link see no overview of the town (party/access.ts).
  return (
    <Show when={town.reach.kind === "town" || (town.reach.kind === "scope" && !town.reach.convoy)} fallback={<NotInReach what="The town's overview" />}>
      <TownOverview />
    </Show>
  );
}

function TownOverview() {
  const town = useTown();
  // A rig-scoped token sees its rig and its convoys here: not the town's spend or activity.
  const whole = town.reach.kind === "town";
  const base = `/t/${town.town}`;
  const totals = createMemo(() => {
    let working = 0;
    let polecats = 0;
    let active = 0;
    let failed = 0;
    for (const rig of town.sortedRigs()) {
      const s = rig.summary;
      // Polecats only when the summary counts them apart; witness and refinery are not workers.
      const counts = s.polecats ?? s.agents;
      working += counts.working ?? 0;
      polecats += Object.values(counts).reduce((n, c) => n + (c ?? 0), 0);
      active += (s.beads.open ?? 0) + (s.beads.in_progress ?? 0) + (s.beads.in_review ?? 0);
      failed += s.beads.failed ?? 0;
    }
    return { working, polecats, active, failed };
  });
  const anyPolecatCounts = createMemo(() => town.sortedRigs().some((r) => r.summary.polecats));
  return (
    <div class="space-y-4">
      <div class="flex flex-wrap items-end justify-between gap-3">
        <div class="min-w-0">
          <h1 class="text-xl font-semibold">Overview</h1>
          <p class="text-sm text-zinc-500" data-testid="town-totals">
            {plural(town.sortedRigs().length, "rig")} · {totals().working} of {plural(totals().polecats, anyPolecatCounts() ? "polecat" : "agent")} working ·{" "}
            {plural(totals().active, "bead")} active
            <Show when={totals().failed}>
              {" "}
              · <span class="font-medium text-rose-600 dark:text-rose-400">{totals().failed} failed</span>
            </Show>
            <Show when={town.usage()?.today.runs}>
              {" "}
              · <span data-testid="town-totals-spend">today {costText(town.usage()!.today)}</span>
            </Show>
          </p>
        </div>
        <Show when={town.isOperator}>
          <OverviewActions />
        </Show>
      </div>
      <AttentionLane />
      <div class="grid gap-4 lg:grid-cols-3">
        <section class="min-w-0 lg:col-span-2" aria-label="Rigs">
          <Show when={town.sync.loaded()} fallback={<Loading what="rigs" />}>
            <Show
              when={town.sortedRigs().length}
              fallback={
                <Panel title="Rigs">
                  <Empty title="This town has no rigs yet.">
                    {town.isOperator ? "Add a git repository as a rig to start slinging work to it." : "An operator adds rigs; they will appear here live."}
                  </Empty>
                </Panel>
              }
            >
              <ul class="grid gap-3 sm:grid-cols-2" data-testid="rig-list">
                <For each={town.sortedRigs()}>{(rig) => <RigCard rig={rig} href={`${base}/rigs/${rig.name}`} />}</For>
              </ul>
            </Show>
          </Show>
        </section>
        <div class="min-w-0 space-y-4">
          <Panel title="Convoys" testid="convoys-panel" actions={<SyncBadge sync={town.sync} label="Convoys" />}>
            <ConvoyList convoys={Object.values(town.convoys).filter(Boolean)} base={base} />
          </Panel>
          <Show
            when={whole}
            fallback={
              <Panel title="Spend today (UTC)" testid="town-spend-panel">
                <NotInLink what="The town's spend" />
              </Panel>
            }
          >
            <TownSpendPanel usage={town.usage()} />
          </Show>
          <Panel title="Closed in 24 h and load now" testid="rig-load-panel">
            <Show when={town.sync.loaded()} fallback={<Loading what="rigs" />}>
              <RigLoadPanelBody rigs={town.sortedRigs()} base={base} />
            </Show>
          </Panel>
          <Panel title="Activity" testid="activity-panel" actions={<SyncBadge sync={town.sync} label="Activity" />}>
            <div class="max-h-[28rem] overflow-y-auto">
              <Show when={whole} fallback={<NotInLink what="The town's activity" />}>
                <Feed events={town.events()} />
              </Show>
            </div>
          </Panel>
        </div>
      </div>
    </div>
  );
}
