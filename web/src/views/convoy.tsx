/** A convoy across rigs: progress overall, its burn-down, progress per rig, each bead with status, assignee and the Mayor's reason. */
import { For, Show, createMemo } from "solid-js";
import { useParams } from "@solidjs/router";
import { reachText, useTown } from "../stores/town.tsx";
import { NotInReach } from "../shell/not-in-reach.tsx";
import { convoyProgress, progressText } from "../lib/convoy.ts";
import { burnDown } from "../lib/charts.ts";
import { now, shortId } from "../lib/time.ts";
import { Ago, Badge, Crumbs, Empty, Loading, Mono, Panel, StackBar, SyncBadge } from "../ui/kit.tsx";
import { BurnDown } from "../ui/charts.tsx";
import { addTotals, costText, totalsLine } from "../lib/usage.ts";

export default function ConvoyView() {
  const params = useParams<{ convoy: string }>();
  const town = useTown();
  // A rig, bead or agent link reads no convoy; a convoy link its own; a rig-scoped token those its rig is in.
  const sees = () => town.reach.kind === "town" || (town.reach.kind === "scope" && (town.reach.convoy ?? params.convoy) === params.convoy);
  return (
    <Show when={sees()} fallback={<NotInReach what={`Convoy ${shortId(params.convoy)}`} />}>
      <Convoy />
    </Show>
  );
}

function Convoy() {
  const params = useParams<{ convoy: string }>();
  const town = useTown();
  const base = `/t/${town.town}`;
  const convoy = () => town.convoys[params.convoy];
  const progress = createMemo(() => (convoy() ? convoyProgress(convoy()!) : null));
  const burn = createMemo(() => (convoy() ? burnDown(convoy()!.createdAt, convoy()!.beads) : null));
  // What its beads' runs used, as their rigs last told the town (a bead with no run yet counts nothing).
  const used = createMemo(() => addTotals(convoy()?.beads.map((b) => b.usage) ?? []));
  return (
    <div class="space-y-4">
      <div class="flex flex-wrap items-center justify-between gap-2">
        <Crumbs items={[{ href: base, label: "Overview" }, { label: convoy()?.title ?? `convoy ${shortId(params.convoy)}` }]} />
        <SyncBadge sync={town.sync} label="Convoy" />
      </div>
      <Show when={town.sync.loaded()} fallback={<Loading what="the convoy" />}>
        <Show
          when={convoy() && progress()}
          fallback={
            <Panel title="Convoy not found">
              <Empty
                title={
                  town.reach.kind === "town"
                    ? "This town has no such convoy."
                    : `No such convoy among those ${reachText(town)?.replace(/ only$/, "") ?? ""} shows.`
                }
              />
            </Panel>
          }
        >
          <div class="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900/60" data-testid="convoy-summary">
            <div class="flex flex-wrap items-center gap-3">
              <h1 class="text-xl font-semibold" data-testid="convoy-title">
                {convoy()!.title}
              </h1>
              <Badge kind="convoy" status={convoy()!.status} testid="convoy-status" />
              <span class="text-sm text-zinc-500">
                started <Ago at={convoy()!.createdAt} />
                <Show when={convoy()!.landedAt}>
                  {(at) => (
                    <>
                      {" "}
                      · {convoy()!.status === "stuck" ? "stuck" : "landed"} <Ago at={at()} />
                    </>
                  )}
                </Show>
              </span>
            </div>
            <div class="mt-3 flex items-center gap-3">
              <StackBar
                class="h-2 flex-1"
                parts={[
                  { tone: "green", value: progress()!.done, label: "closed" },
                  { tone: "red", value: progress()!.failed, label: "failed" },
                  { tone: "neutral", value: progress()!.total - progress()!.done - progress()!.failed, label: "to do" },
                ]}
              />
              <span class="text-sm tabular-nums" data-testid="convoy-progress">
                {progressText(progress()!)}
              </span>
            </div>
            <Show when={convoy()!.status === "stuck"}>
              <p class="mt-2 text-sm text-red-700 dark:text-red-400" data-testid="convoy-stuck">
                Stuck: every bead is finished but {progress()!.failed} failed. Retry, move or close {progress()!.failed === 1 ? "it" : "them"} and the convoy
                opens again.
              </p>
            </Show>
            <p class="mt-1 text-xs text-zinc-500">
              {progress()!.byRig.length} rigs
              <Show when={progress()!.failed}> · {progress()!.failed} failed</Show> ·{" "}
              <span data-testid="convoy-spend" data-cost={used().costUsd} data-unpriced={used().unpriced}>
                used {totalsLine(used())}
              </span>
            </p>
          </div>
          <Panel title="Burn-down" testid="convoy-burn-down">
            <div class="px-4 py-3">
              <BurnDown total={burn()!.total} points={burn()!.points} end={convoy()!.landedAt ?? now()} />
              <p class="mt-1 text-xs text-zinc-500">
                Beads not closed yet since the convoy started; each dot is a bead closing.
                <Show when={burn()!.failed}> {burn()!.failed} failed and stay on the line (failed work is not done work).</Show>
                <Show when={burn()!.undated}> {burn()!.undated} closed before closing times were kept and are not drawn.</Show>
              </p>
            </div>
          </Panel>
          <div class="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            <For each={progress()!.byRig}>
              {(group) => (
                <Panel
                  testid="convoy-rig"
                  title={
                    <a href={town.rigs[group.rigId] ? `${base}/rigs/${group.rigName}` : undefined} class="hover:underline" data-testid="convoy-rig-name">
                      {group.rigName}
                    </a>
                  }
                  actions={
                    <span class="text-sm tabular-nums text-zinc-500" data-testid="convoy-rig-progress">
                      {progressText(group, true)}
                    </span>
                  }
                >
                  <StackBar
                    class="mx-4 mt-3"
                    parts={[
                      { tone: "green", value: group.done, label: "closed" },
                      { tone: "red", value: group.failed, label: "failed" },
                      { tone: "neutral", value: group.total - group.done - group.failed, label: "to do" },
                    ]}
                  />
                  <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
                    <For each={group.beads}>
                      {(bead) => (
                        <li class="space-y-1 px-4 py-2.5 text-sm" data-testid="convoy-bead">
                          <div class="flex items-start justify-between gap-2">
                            <a href={`${base}/rigs/${bead.rigName}/beads/${bead.beadId}`} class="font-medium hover:underline">
                              {bead.title}
                            </a>
                            <Badge kind="bead" status={bead.status} />
                          </div>
                          <p class="text-xs text-zinc-500">
                            <Mono>{shortId(bead.beadId)}</Mono> · {bead.assignee ?? "unassigned"}
                            <Show when={bead.usage?.runs}>
                              {" "}
                              · <span data-testid="convoy-bead-spend">{costText(bead.usage)}</span>
                            </Show>
                          </p>
                          <p class="text-xs text-zinc-600 dark:text-zinc-400" data-testid="convoy-reason">
                            <span class="font-medium">Mayor:</span> {bead.reason}
                          </p>
                          <Show when={bead.note}>
                            <p class="text-xs text-rose-600 dark:text-rose-400">{bead.note}</p>
                          </Show>
                        </li>
                      )}
                    </For>
                  </ul>
                </Panel>
              )}
            </For>
          </div>
        </Show>
      </Show>
    </div>
  );
}
