/**
 * The town's one search ("/"): beads, agents, mail, convoys and rigs, grouped by kind, moved through
 * with the arrow keys and opened with Enter (or a click). It searches what this dashboard holds (see
 * lib/search.ts) and says what it did not search. The town's mail document is opened only while the
 * search is open, and only for town-wide operators (the only ones it is for).
 */
import { For, Show, createEffect, createMemo, createSignal, type Accessor, type Setter } from "solid-js";
import { useNavigate } from "@solidjs/router";
import type { Mail } from "../../../party/protocol.ts";
import { createLiveDoc } from "../lib/live-doc.ts";
import { KIND_LABEL, notSearched, search, type SearchHit, type SearchSources } from "../lib/search.ts";
import { openRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";

export function Search(props: { open: Accessor<boolean>; setOpen: Setter<boolean> }) {
  let dialog!: HTMLDialogElement;
  createEffect(() => {
    if (props.open() && !dialog.open) dialog.showModal();
    if (!props.open() && dialog.open) dialog.close();
  });
  return (
    <dialog
      ref={dialog}
      aria-label="Search"
      data-testid="search"
      onClose={() => props.setOpen(false)}
      onKeyDown={(e) => {
        if (e.key !== "Escape" || e.defaultPrevented) return;
        e.preventDefault();
        props.setOpen(false);
      }}
      class="m-auto mt-[12vh] w-[min(40rem,calc(100vw-1.5rem))] rounded-xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-2xl backdrop:bg-zinc-950/50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <Show when={props.open()}>
        <SearchBody close={() => props.setOpen(false)} />
      </Show>
    </dialog>
  );
}

function SearchBody(props: { close: () => void }) {
  const town = useTown();
  const navigate = useNavigate();
  const townWide = town.isOperator && town.session.rig === null && town.session.view === null;
  const townMail = townWide ? createLiveDoc({ party: "main", room: town.town, doc: "mail", token: town.session.token }, { maps: ["mail"], arrays: [] }) : null;
  const mailMap = townMail?.map<Mail>("mail");
  const [query, setQuery] = createSignal("");
  const [active, setActive] = createSignal(0);
  const sources = createMemo((): SearchSources => {
    const rig = openRig();
    return {
      town: town.town,
      rigs: Object.values(town.rigs).filter((r) => !!r),
      convoys: Object.values(town.convoys).filter((c) => !!c),
      ...(rig ? { open: { rig: rig.rig, beads: Object.values(rig.beads).filter((b) => !!b), agents: rig.agentList(), mail: rig.mailList() } } : {}),
      townMail: townMail && townMail.sync.loaded() ? Object.values(mailMap!).filter((m) => !!m) : null,
    };
  });
  const groups = createMemo(() => search(query(), sources()));
  const flat = createMemo(() => groups().flatMap((g) => g.hits));
  const missing = createMemo(() => notSearched(sources()));
  createEffect(() => {
    query();
    setActive(0);
  });
  const open = (hit: SearchHit) => {
    props.close();
    navigate(hit.href);
  };
  const move = (by: number) => {
    const n = flat().length;
    if (!n) return;
    setActive((i) => (i + by + n) % n);
    document.querySelector(`[data-testid=search-hit][data-index="${active()}"]`)?.scrollIntoView({ block: "nearest" });
  };
  return (
    <div class="p-3">
      <input
        class={`${input} w-full`}
        type="search"
        placeholder="Search beads, agents, mail, convoys, rigs"
        aria-label="Search beads, agents, mail, convoys and rigs"
        aria-controls="search-results"
        aria-activedescendant={flat().length ? `search-hit-${active()}` : undefined}
        autofocus
        ref={(el) => queueMicrotask(() => el.focus())}
        value={query()}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") (e.preventDefault(), move(1));
          else if (e.key === "ArrowUp") (e.preventDefault(), move(-1));
          else if (e.key === "Enter") {
            e.preventDefault();
            const hit = flat()[active()];
            if (hit) open(hit);
          }
        }}
        data-testid="search-input"
      />
      <div id="search-results" role="listbox" aria-label="Results" class="mt-2 max-h-[60vh] overflow-y-auto">
        <Show when={query().trim()}>
          <Show
            when={flat().length}
            fallback={
              <p class="px-2 py-3 text-sm text-zinc-500" data-testid="search-none">
                Nothing found.
              </p>
            }
          >
            <For each={groups()}>
              {(group) => (
                <section class="py-1" data-testid="search-group" data-kind={group.kind}>
                  <h3 class="px-2 py-1 text-xs font-semibold uppercase tracking-wide text-zinc-500">{KIND_LABEL[group.kind]}</h3>
                  <For each={group.hits}>
                    {(hit) => {
                      const index = () => flat().indexOf(hit);
                      return (
                        <a
                          href={hit.href}
                          id={`search-hit-${index()}`}
                          role="option"
                          aria-selected={active() === index()}
                          data-testid="search-hit"
                          data-kind={hit.kind}
                          data-index={index()}
                          class={`flex items-baseline gap-2 rounded-md px-2 py-1.5 text-sm ${active() === index() ? "bg-blue-500/10 ring-1 ring-blue-500/40" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"}`}
                          onMouseMove={() => setActive(index())}
                          onClick={(e) => {
                            e.preventDefault();
                            open(hit);
                          }}
                        >
                          <span class="min-w-0 truncate font-medium">{hit.title}</span>
                          <span class="ml-auto shrink-0 truncate text-xs text-zinc-500">{hit.detail}</span>
                        </a>
                      );
                    }}
                  </For>
                  <Show when={group.more}>
                    <p class="px-2 text-xs text-zinc-500">and {group.more} more: type more of it</p>
                  </Show>
                </section>
              )}
            </For>
          </Show>
        </Show>
        <Show when={missing()}>
          <p class="border-t border-zinc-100 px-2 pt-2 text-xs text-zinc-500 dark:border-zinc-800" data-testid="search-not-searched">
            {missing()}
          </p>
        </Show>
      </div>
      <p class="mt-2 px-2 text-xs text-zinc-500">↑ ↓ to move, Enter to open, Esc to close</p>
    </div>
  );
}
