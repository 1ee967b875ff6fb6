import { For } from "solid-js";
import type { TownStore } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";

export const PRIORITY_OPTIONS = ["low", "medium", "high", "critical"] as const;

/** "Automatic (the Mayor decides)" or one of the town's rigs. */
export function RigPicker(props: { town: TownStore; ref: (el: HTMLSelectElement) => void; selected?: string | undefined; class?: string; label?: string }) {
  return (
    <select ref={props.ref} class={props.class ?? input} name="rig" aria-label={props.label}>
      <option value="">Automatic (Mayor)</option>
      <For each={props.town.sortedRigs()}>
        {(rig) => (
          <option value={rig.name} selected={rig.name === props.selected}>
            {rig.name}
          </option>
        )}
      </For>
    </select>
  );
}
