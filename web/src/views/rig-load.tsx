/**
 * Per rig, the last day's throughput (beads closed per hour) and its load now (working polecats of
 * its maximum), from the rig summaries in the town document.
 */
import { For, Show } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import { hourly } from "../lib/charts.ts";
import { now } from "../lib/time.ts";
import { HourBars, LoadMeter } from "../ui/charts.tsx";
import { Empty } from "../ui/kit.tsx";

/** One rig's two small charts, for any row or card that shows a rig. */
export function RigCharts(props: { rig: Rig }) {
  const s = () => props.rig.summary;
  const closed = () => hourly(s().closedByHour).reduce((a, n) => a + n, 0);
  return (
    <div class="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-zinc-500" data-testid="rig-charts" data-rig={props.rig.name}>
      <span class="inline-flex items-center gap-2" title="Beads closed per hour, the last 24 hours">
        <HourBars counts={s().closedByHour} now={now()} />
        <span>
          <span class="font-medium tabular-nums text-zinc-700 dark:text-zinc-200">{closed()}</span> closed / 24 h
        </span>
      </span>
      <Show when={s().polecats}>
        {(p) => (
          <span class="inline-flex items-center gap-2">
            <LoadMeter working={p().working ?? 0} max={props.rig.maxPolecats} />
            <span>
              <span class="font-medium tabular-nums text-zinc-700 dark:text-zinc-200">
                {p().working ?? 0}/{props.rig.maxPolecats}
              </span>{" "}
              polecats working
            </span>
          </span>
        )}
      </Show>
    </div>
  );
}

export function RigLoadPanelBody(props: { rigs: Rig[]; base: string }) {
  return (
    <Show when={props.rigs.length} fallback={<Empty title="No rigs yet." />}>
      <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70" data-testid="rig-load-list">
        <For each={props.rigs}>
          {(rig) => (
            <li class="space-y-1 px-4 py-2">
              <a class="text-sm font-medium hover:underline" href={`${props.base}/rigs/${encodeURIComponent(rig.name)}`}>
                {rig.name}
              </a>
              <RigCharts rig={rig} />
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
