/**
 * The activity feed: newest first, each event in its tone (failures and trouble stand out), with
 * links to the rig, bead and agent it names, filtered by kind (or "problems") and by rig.
 */
import { For, Show, createMemo, createSignal } from "solid-js";
import type { FeedEvent } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { ALL, FEED_TONE, PROBLEMS, facets, feedLinks, feedTone, visibleEvents, type FeedFilter } from "../lib/feed.ts";
import { BADGE, DOT, label } from "../lib/tone.ts";
import { Ago, Empty } from "../ui/kit.tsx";

const select =
  "min-w-0 max-w-[48%] rounded-md border-0 bg-white py-0.5 pl-2 pr-7 text-xs ring-1 ring-inset ring-zinc-300 focus:ring-2 focus:ring-blue-500 dark:bg-zinc-900 dark:ring-zinc-700";

/**
 * The doc keeps the last 500 events; the screen shows the newest `limit` that pass the filters.
 * `rig`: the rig whose own feed this is (its events' beads link into it).
 */
export function Feed(props: { events: FeedEvent[]; limit?: number; empty?: string; rig?: string }) {
  const town = useTown();
  const base = `/t/${town.town}`;
  const [filter, setFilter] = createSignal<FeedFilter>(ALL);
  const choices = createMemo(() => {
    const { kinds, rigs } = facets(props.events);
    // The town's rigs too, so a quiet rig can be picked (and shown to be quiet).
    const names = new Set([...rigs, ...town.sortedRigs().map((r) => r.name)]);
    return { kinds, rigs: [...names].sort() };
  });
  const shown = createMemo(() => visibleEvents(props.events, filter(), props.limit ?? 60));
  const filtered = () => filter().kind !== "" || filter().rig !== "";
  return (
    <div data-testid="feed-panel">
      <Show when={props.events.length}>
        <div
          class="sticky top-0 z-10 flex flex-wrap items-center gap-2 border-b border-zinc-100 bg-white/95 px-4 py-1.5 dark:border-zinc-800 dark:bg-zinc-900/95"
          role="group"
          aria-label="Filter the activity"
        >
          <select
            class={select}
            aria-label="Show events of kind"
            data-testid="feed-filter-kind"
            value={filter().kind}
            onChange={(e) => setFilter({ ...filter(), kind: e.currentTarget.value })}
          >
            <option value="">All kinds</option>
            <option value={PROBLEMS}>Problems only</option>
            <For each={choices().kinds}>{(kind) => <option value={kind}>{label(kind)}</option>}</For>
          </select>
          <Show when={!props.rig}>
            <select
              class={select}
              aria-label="Show events of rig"
              data-testid="feed-filter-rig"
              value={filter().rig}
              onChange={(e) => setFilter({ ...filter(), rig: e.currentTarget.value })}
            >
              <option value="">All rigs</option>
              <For each={choices().rigs}>{(rig) => <option value={rig}>{rig}</option>}</For>
            </select>
          </Show>
          <Show when={filtered()}>
            <button
              class="text-xs text-zinc-500 underline hover:text-zinc-900 dark:hover:text-zinc-100"
              data-testid="feed-filter-clear"
              onClick={() => setFilter(ALL)}
            >
              Clear
            </button>
          </Show>
        </div>
      </Show>
      <Show
        when={shown().length}
        fallback={
          <Show when={filtered()} fallback={<Empty title={props.empty ?? "Nothing has happened yet."}>Events appear here the moment they happen.</Empty>}>
            <Empty title="No events match these filters.">The feed keeps the last 500 events; new ones that match appear here as they happen.</Empty>
          </Show>
        }
      >
        <ol class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70" data-testid="feed">
          <For each={shown()}>
            {(event) => {
              const t = feedTone(event);
              const links = feedLinks(event, base, props.rig);
              return (
                <li
                  class={`flex gap-3 px-4 py-2 compact:py-1 ${t === "bad" ? "bg-rose-500/5" : t === "warn" ? "bg-amber-500/5" : ""}`}
                  data-testid="feed-event"
                  data-kind={event.kind}
                  data-tone={t}
                  data-rig={event.rig ?? ""}
                >
                  <span class={`mt-1.5 size-2 shrink-0 rounded-full ${DOT[FEED_TONE[t]]}`} aria-hidden="true" />
                  <div class="min-w-0 flex-1 leading-5">
                    <span
                      class={`mr-2 rounded px-1 font-mono text-xs ring-1 ring-inset ${BADGE[FEED_TONE[t]]}`}
                      title={t === "info" ? undefined : `${t === "bad" ? "a failure" : t === "warn" ? "a warning" : "good news"}`}
                    >
                      {event.kind}
                    </span>
                    <span class="break-words">{event.text}</span>
                    <Show when={links.length}>
                      <span class="ml-1 inline-flex flex-wrap gap-x-2 text-xs">
                        <For each={links}>
                          {(link) => (
                            <a
                              class="text-blue-700 underline-offset-2 hover:underline dark:text-blue-400"
                              href={link.href}
                              data-testid={`feed-link-${link.kind}`}
                            >
                              {link.label}
                            </a>
                          )}
                        </For>
                      </span>
                    </Show>
                  </div>
                  <span class="shrink-0 text-xs leading-5 text-zinc-500">
                    <Ago at={event.at} />
                  </span>
                </li>
              );
            }}
          </For>
        </ol>
      </Show>
    </div>
  );
}
