import { For, Show, createMemo } from "solid-js";
import type { FeedEvent } from "../../../party/protocol.ts";
import { Ago, Empty } from "../ui/kit.tsx";

const KIND_TONE: Record<string, string> = {
  mail: "text-blue-600 dark:text-blue-400",
  bead: "text-violet-600 dark:text-violet-400",
  agent: "text-amber-600 dark:text-amber-400",
  rig: "text-emerald-600 dark:text-emerald-400",
  convoy: "text-sky-600 dark:text-sky-400",
  escalation: "text-rose-600 dark:text-rose-400",
  witness: "text-amber-600 dark:text-amber-400",
  sling: "text-sky-600 dark:text-sky-400",
  landed: "text-emerald-600 dark:text-emerald-400",
};

/** The newest events first; the doc keeps the last 500, the screen shows the last `limit`. */
export function Feed(props: { events: FeedEvent[]; limit?: number; empty?: string }) {
  const recent = createMemo(() => props.events.slice(-(props.limit ?? 60)).reverse());
  return (
    <Show when={recent().length} fallback={<Empty title={props.empty ?? "Nothing has happened yet."}>Events appear here the moment they happen.</Empty>}>
      <ol class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70" data-testid="feed">
        <For each={recent()}>
          {(event) => (
            <li class="flex gap-3 px-4 py-2">
              <span class={`w-16 shrink-0 font-mono text-xs leading-5 ${KIND_TONE[event.kind] ?? "text-zinc-500"}`}>{event.kind}</span>
              <span class="min-w-0 flex-1 break-words leading-5">{event.text}</span>
              <span class="shrink-0 text-xs leading-5 text-zinc-500">
                <Ago at={event.at} />
              </span>
            </li>
          )}
        </For>
      </ol>
    </Show>
  );
}
