import { For, Show, createMemo } from "solid-js";
import type { Convoy } from "../../../party/protocol.ts";
import { convoyProgress, progressText } from "../lib/convoy.ts";
import { Ago, Badge, Empty, StackBar } from "../ui/kit.tsx";

/** Open convoys with their progress, every stuck one (it needs someone), then the most recently landed few. */
export function ConvoyList(props: { convoys: Convoy[]; base: string }) {
  const sorted = createMemo(() => {
    const open = props.convoys.filter((c) => c.status === "open").sort((a, b) => b.createdAt - a.createdAt);
    const stuck = props.convoys.filter((c) => c.status === "stuck").sort((a, b) => (b.landedAt ?? b.createdAt) - (a.landedAt ?? a.createdAt));
    const rest = props.convoys
      .filter((c) => c.status !== "open" && c.status !== "stuck")
      .sort((a, b) => (b.landedAt ?? b.createdAt) - (a.landedAt ?? a.createdAt))
      .slice(0, 5);
    return [...open, ...stuck, ...rest];
  });
  return (
    <Show when={sorted().length} fallback={<Empty title="No convoys yet.">A convoy bundles beads across rigs and tracks them until all land.</Empty>}>
      <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
        <For each={sorted()}>
          {(convoy) => {
            const p = () => convoyProgress(convoy);
            return (
              <li data-testid="convoy-row">
                <a
                  href={`${props.base}/convoys/${convoy.id}`}
                  class="block px-4 py-3 compact:py-1.5 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-blue-500 dark:hover:bg-zinc-800/40"
                >
                  <div class="flex items-center justify-between gap-2">
                    <span class="truncate text-sm font-medium">{convoy.title}</span>
                    <Badge kind="convoy" status={convoy.status} />
                  </div>
                  <div class="mt-2 flex items-center gap-2 text-xs text-zinc-500 compact:mt-1">
                    <StackBar
                      class="flex-1"
                      parts={[
                        { tone: "green", value: p().done, label: "closed" },
                        { tone: "red", value: p().failed, label: "failed" },
                        { tone: "neutral", value: p().total - p().done - p().failed, label: "to do" },
                      ]}
                    />
                    <span class="tabular-nums" data-testid="convoy-progress">
                      {progressText(p(), true)}
                    </span>
                  </div>
                  <p class="mt-1 text-xs text-zinc-500 compact:hidden">
                    {p().byRig.length} rig{p().byRig.length === 1 ? "" : "s"} · started <Ago at={convoy.createdAt} />
                  </p>
                </a>
              </li>
            );
          }}
        </For>
      </ul>
    </Show>
  );
}
