import { For, Show, createEffect, createSignal, on, type JSX } from "solid-js";
import { AGENT_RUNTIMES } from "../../../party/protocol/records.ts";
import type { TownStore } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { RUNTIME_NAMES, takesModel } from "../lib/runtime.ts";
import { FieldLabel } from "./dialog.tsx";

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

/**
 * A rig's runtime ("" for the container's default) and model ("" for the runtime's default), as
 * gt_rig_add and gt_rig_update take them. A new runtime empties the model (a model names one CLI's
 * models, and the registry drops it too); the scripted agent and a command take none.
 */
export function RuntimeFields(props: {
  runtime?: string;
  model?: string;
  runtimeRef: (el: HTMLSelectElement) => void;
  modelRef: (el: HTMLInputElement) => void;
  modelProblem?: JSX.Element;
  invalid?: boolean;
}) {
  const [runtime, setRuntime] = createSignal(props.runtime ?? "");
  let model!: HTMLInputElement;
  return (
    <div class="grid grid-cols-2 gap-3">
      <FieldLabel label="Runtime">
        <select
          ref={props.runtimeRef}
          class={input}
          name="runtime"
          onChange={(e) => {
            setRuntime(e.currentTarget.value);
            model.value = "";
            model.dispatchEvent(new Event("input"));
          }}
        >
          <option value="" selected={!props.runtime}>
            Container's default
          </option>
          <For each={AGENT_RUNTIMES}>
            {(name) => (
              <option value={name} selected={name === props.runtime}>
                {name === "scripted" || name === "command" ? name : `${name} (${RUNTIME_NAMES[name]})`}
              </option>
            )}
          </For>
        </select>
      </FieldLabel>
      <FieldLabel label="Model">
        <input
          ref={(el) => {
            model = el;
            props.modelRef(el);
          }}
          class={`${input} font-mono`}
          name="model"
          value={props.model ?? ""}
          placeholder={takesModel(runtime()) ? "its default" : "none"}
          disabled={!takesModel(runtime())}
          autocomplete="off"
          aria-invalid={props.invalid}
        />
        {props.modelProblem}
      </FieldLabel>
    </div>
  );
}

/**
 * The model a bead asks for (gt_sling, gt_convoy_create): empty for its rig's. `problem`: the
 * room's refusal of the name, shown under the field until it is edited (`onEdit`).
 */
export function ModelField(props: { ref: (el: HTMLInputElement) => void; hint: string; placeholder: string; problem: string | null; onEdit: () => void }) {
  return (
    <FieldLabel label="Model" hint={props.hint}>
      <input
        ref={props.ref}
        class={`${input} font-mono`}
        name="model"
        autocomplete="off"
        placeholder={props.placeholder}
        aria-invalid={!!props.problem}
        onInput={() => props.onEdit()}
      />
      <Show when={props.problem}>
        <span class="block text-xs text-rose-700 dark:text-rose-300" role="alert" data-testid="field-error" data-field="model">
          {props.problem}
        </span>
      </Show>
    </FieldLabel>
  );
}

/**
 * A value to copy (a link, a secret shown once): read-only, selected on focus, with a Copy button
 * that says when it copied; a new value is not "Copied" yet. `what` names it in the error.
 */
export function CopyField(props: { value: string; what: string; testid: string; onError: (message: string) => void }) {
  const [copied, setCopied] = createSignal(false);
  createEffect(
    on(
      () => props.value,
      () => setCopied(false),
    ),
  );
  return (
    <div class="flex gap-2">
      <input class={`${input} font-mono text-xs`} readOnly value={props.value} data-testid={props.testid} onFocus={(e) => e.currentTarget.select()} />
      <button
        type="button"
        class={btn}
        onClick={() =>
          void navigator.clipboard?.writeText(props.value).then(
            () => setCopied(true),
            () => props.onError(`Could not copy: select the ${props.what} and copy it by hand.`),
          )
        }
      >
        {copied() ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
