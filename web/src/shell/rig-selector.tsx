import { For, Show, createMemo } from "solid-js";
import { useNavigate, useParams } from "@solidjs/router";
import type { Rig } from "../../../party/protocol.ts";
import { rigAlerts, useTown } from "../stores/town.tsx";

/**
 * Always in the header: jump to any rig. Rigs that need attention come first, in their own group,
 * each with what needs it ("backend — 1 stalled, 1 escalation").
 */
export function RigSelector() {
  const town = useTown();
  const params = useParams<{ rig?: string }>();
  const navigate = useNavigate();
  const groups = createMemo(() => {
    const needing: { rig: Rig; why: string }[] = [];
    const fine: Rig[] = [];
    for (const rig of town.sortedRigs()) {
      const alerts = rigAlerts(rig);
      if (alerts.length) needing.push({ rig, why: alerts.map((a) => a.text).join(", ") });
      else fine.push(rig);
    }
    return { needing, fine };
  });
  // As wide as the chosen rig's line ("backend — 1 stalled, 1 escalation"), up to 36rem on a wide
  // screen: a fixed 18rem box cut it at 1440 px. Narrower screens give it what the header has left.
  return (
    <label class="flex min-w-0 items-center">
      <span class="sr-only">Rig</span>
      <select
        data-testid="rig-selector"
        class="field-sizing-content max-w-full sm:max-w-72 lg:max-w-[36rem] rounded-md border-0 bg-white py-1 pl-2 pr-7 text-sm ring-1 ring-inset ring-zinc-300 focus:ring-2 focus:ring-blue-500 dark:bg-zinc-900 dark:ring-zinc-700"
        title="Go to a rig (/); rigs that need attention are listed first, with what needs it"
        value={params.rig ?? ""}
        onChange={(e) => {
          const name = e.currentTarget.value;
          navigate(name ? `/t/${town.town}/rigs/${name}` : `/t/${town.town}`);
        }}
      >
        <option value="">
          {town.reach.kind !== "town" ? "Its rig only" : town.sortedRigs().length ? `All rigs (${town.sortedRigs().length})` : "No rigs yet"}
        </option>
        <Show when={groups().needing.length}>
          <optgroup label="Need attention" data-testid="rigs-needing-attention">
            <For each={groups().needing}>
              {({ rig, why }) => (
                <option value={rig.name} selected={rig.name === params.rig}>
                  {rig.name} — {why}
                </option>
              )}
            </For>
          </optgroup>
        </Show>
        <Show when={groups().fine.length}>
          <optgroup label={groups().needing.length ? "Other rigs" : "Rigs"}>
            <For each={groups().fine}>
              {(rig) => (
                <option value={rig.name} selected={rig.name === params.rig}>
                  {rig.name}
                </option>
              )}
            </For>
          </optgroup>
        </Show>
      </select>
    </label>
  );
}
