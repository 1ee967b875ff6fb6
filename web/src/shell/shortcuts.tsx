/**
 * The town's keyboard shortcuts and the list that explains them: "?" or the header's hint button
 * opens it, Esc closes it.
 */
import { For, Show, createSignal, type Accessor, type Setter } from "solid-js";
import { useNavigate } from "@solidjs/router";
import { createShortcuts } from "../lib/keys.ts";
import { useTown } from "../stores/town.tsx";
import { Search } from "./search.tsx";

/** What the list shows; views that bind keys of their own add them here. */
export const SHORTCUTS: [keys: string, what: string][] = [
  ["g o", "overview"],
  ["g m", "town mail"],
  ["/", "search beads, agents, mail, convoys, rigs"],
  ["t", "light or dark theme"],
  ["r m c f", "on a bead (operators): retry, move, close, fail"],
  ["Tab", "move between items"],
  ["Esc", "close a dialog or this list"],
  ["?", "this list"],
];

export function Shortcuts(props: { open: Accessor<boolean>; setOpen: Setter<boolean> }) {
  const helpOpen = props.open;
  const setHelpOpen = props.setOpen;
  const town = useTown();
  const navigate = useNavigate();
  const [searching, setSearching] = createSignal(false);
  createShortcuts({
    "g o": () => navigate(`/t/${town.town}`),
    "g m": () => navigate(`/t/${town.town}/mail`),
    "/": () => setSearching(true),
    t: () => document.querySelector<HTMLButtonElement>("[data-testid=theme-toggle]")?.click(),
    "?": () => setHelpOpen(!helpOpen()),
    Escape: () => setHelpOpen(false),
  });
  return (
    <>
      <Search open={searching} setOpen={setSearching} />
      <Show when={helpOpen()}>
        <div
          class="fixed bottom-4 right-4 z-30 w-64 max-w-[calc(100vw-2rem)] rounded-xl border border-zinc-200 bg-white p-4 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
          role="dialog"
          aria-label="Keyboard shortcuts"
          data-testid="shortcuts"
        >
          <div class="mb-2 flex items-center justify-between">
            <p class="font-semibold">Keyboard shortcuts</p>
            <button
              class="rounded px-1.5 text-zinc-500 hover:text-zinc-900 dark:hover:text-zinc-100"
              aria-label="Close the shortcut list"
              onClick={() => setHelpOpen(false)}
            >
              ✕
            </button>
          </div>
          <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-zinc-600 dark:text-zinc-300">
            <For each={SHORTCUTS}>
              {([k, v]) => (
                <>
                  <dt>
                    <kbd class="rounded bg-zinc-100 px-1 font-mono text-xs dark:bg-zinc-800">{k}</kbd>
                  </dt>
                  <dd>{v}</dd>
                </>
              )}
            </For>
          </dl>
        </div>
      </Show>
    </>
  );
}
