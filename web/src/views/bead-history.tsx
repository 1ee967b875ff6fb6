/**
 * A bead's status history, complete: the document holds its last few changes; "Older" reads the
 * rest a page at a time from the rig room (gt_bead_history), newest first on screen. A link's
 * page, which may not call tools, says how many changes it cannot show.
 */
import { For, Show, createSignal } from "solid-js";
import type { Bead, BeadHistoryEntry, BeadHistoryPage } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { absolute } from "../lib/time.ts";
import { DOT, label, tone } from "../lib/tone.ts";
import { Ago, Empty, btn } from "../ui/kit.tsx";

type Numbered = BeadHistoryEntry & { seq: number };

export function BeadHistory(props: { bead: Bead }) {
  const town = useTown();
  const rig = useRig();
  const [older, setOlder] = createSignal<Numbered[]>([]);
  // The number to read before next: undefined until a page was read (then from the document's oldest).
  const [before, setBefore] = createSignal<number | null | undefined>(undefined);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const total = () => props.bead.historyCount ?? props.bead.history?.length ?? 0;
  const recent = (): Numbered[] => {
    const h = props.bead.history ?? [];
    return h.map((entry, i) => ({ ...entry, seq: total() - h.length + i }));
  };
  const shown = () => {
    const r = recent();
    const first = r[0]?.seq ?? total();
    return [...older().filter((e) => e.seq < first), ...r].reverse();
  };
  const oldestShown = () => shown().at(-1)?.seq ?? total();
  const next = () => (before() === undefined ? oldestShown() : before());
  const more = () => oldestShown() > 0 && next() !== null;
  async function readOlder() {
    setBusy(true);
    setError(null);
    try {
      const { rigTool, describe } = await import("../actions/api.ts");
      try {
        const page = await rigTool<BeadHistoryPage>(town, rig.rig, "gt_bead_history", { bead_id: props.bead.id, before: next(), limit: 20 });
        setOlder((list) => [...page.entries, ...list.filter((e) => !page.entries.some((p) => p.seq === e.seq))].sort((a, b) => a.seq - b.seq));
        setBefore(page.before);
      } catch (e) {
        setError(describe(e));
      }
    } finally {
      setBusy(false);
    }
  }
  return (
    <Show when={shown().length} fallback={<Empty title="No status changes recorded yet." />}>
      <ol class="relative space-y-3 px-4 py-3 text-sm" data-testid="bead-history-list">
        <For each={shown()}>
          {(h) => (
            <li class="flex gap-3" data-testid="bead-history-entry" data-seq={h.seq}>
              <span class={`mt-1.5 size-2 shrink-0 rounded-full ${DOT[tone("bead", h.status)]}`} />
              <div class="min-w-0">
                <span class="font-medium">{label(h.status)}</span>
                <Show when={h.note}>
                  <span class="text-zinc-500"> — {h.note}</span>
                </Show>
                <div class="text-xs text-zinc-500" title={absolute(h.at)}>
                  <Ago at={h.at} />
                </div>
              </div>
            </li>
          )}
        </For>
      </ol>
      <div class="flex flex-wrap items-center gap-2 px-4 pb-3 text-xs text-zinc-500" data-testid="bead-history-more">
        <span>
          {shown().length} of {total()} status change{total() === 1 ? "" : "s"} shown
          <Show when={oldestShown() > 0 && next() === null}>; older ones are no longer kept</Show>
          <Show when={more() && !town.isOperator}>; older ones are shown to operators</Show>.
        </span>
        <Show when={more() && town.isOperator}>
          <button class={btn} data-testid="bead-history-older" disabled={busy()} onClick={() => void readOlder()}>
            {busy() ? "Reading…" : "Older"}
          </button>
        </Show>
        <Show when={error()}>
          <span class="text-rose-700 dark:text-rose-300" data-testid="bead-history-error">
            {error()}
          </span>
        </Show>
      </div>
    </Show>
  );
}
