import { For } from "solid-js";
import { useNavigate, useParams } from "@solidjs/router";
import { attention, useTown } from "../stores/town.tsx";

/** Always in the header: jump to any rig, the ones needing attention listed first and marked. */
export function RigSelector() {
  const town = useTown();
  const params = useParams<{ rig?: string }>();
  const navigate = useNavigate();
  return (
    <label class="flex items-center">
      <span class="sr-only">Rig</span>
      <select
        data-testid="rig-selector"
        class="max-w-44 rounded-md border-0 bg-white py-1 pl-2 pr-7 text-sm ring-1 ring-inset ring-zinc-300 focus:ring-2 focus:ring-blue-500 dark:bg-zinc-900 dark:ring-zinc-700"
        title="Go to a rig (/)"
        value={params.rig ?? ""}
        onChange={(e) => {
          const name = e.currentTarget.value;
          navigate(name ? `/t/${town.town}/rigs/${name}` : `/t/${town.town}`);
        }}
      >
        <option value="">{town.sortedRigs().length ? `All rigs (${town.sortedRigs().length})` : "No rigs yet"}</option>
        <For each={town.sortedRigs()}>
          {(rig) => (
            <option value={rig.name} selected={rig.name === params.rig}>
              {attention(rig) > 0 ? "● " : ""}
              {rig.name}
            </option>
          )}
        </For>
      </select>
    </label>
  );
}
