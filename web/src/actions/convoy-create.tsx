import { For, createSignal } from "solid-js";
import { useNavigate } from "@solidjs/router";
import type { ConvoyProgress } from "../../../party/protocol.ts";
import type { TownStore } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { ModelField, RigPicker } from "./fields.tsx";
import { describe, splitList, townTool } from "./api.ts";
import { modelProblem } from "../lib/runtime.ts";

type Row = { title: HTMLInputElement; rig: HTMLSelectElement; requires: HTMLInputElement };

/** A convoy: a title and beads, each to a chosen rig or the Mayor's pick; opens the convoy view after. */
export function ConvoyDialog(props: { town: TownStore; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [count, setCount] = createSignal(3);
  const rows: Row[] = [];
  const [problem, setProblem] = createSignal<string | null>(null);
  let title!: HTMLInputElement;
  let model!: HTMLInputElement;
  const submit = async () => {
    const asked = model.value.trim();
    const wrong = modelProblem("", asked);
    setProblem(wrong);
    if (wrong) return model.focus();
    const beads = rows
      .slice(0, count())
      .filter((r) => r.title.value.trim())
      .map((r) => ({
        title: r.title.value.trim(),
        ...(r.rig.value ? { rig: r.rig.value } : {}),
        ...(r.requires.value.trim() ? { requires: splitList(r.requires.value) } : {}),
        ...(asked ? { model: asked } : {}),
      }));
    if (!beads.length) return setError("Give the convoy at least one bead with a title.");
    const convoy = await run(
      { busy: setBusy, error: setError },
      () => townTool<ConvoyProgress>(props.town, "gt_convoy_create", { title: title.value.trim(), beads }),
      describe,
    );
    if (convoy) {
      props.onClose();
      navigate(`/t/${props.town.town}/convoys/${convoy.id}`);
    }
  };
  return (
    <FormDialog
      open={props.open}
      title="Create a convoy"
      submit="Create convoy"
      busy={busy()}
      error={error()}
      onClose={props.onClose}
      onSubmit={submit}
      testid="convoy-dialog"
    >
      <FieldLabel label="Title">
        <input ref={title} class={input} name="title" required maxLength={200} autocomplete="off" />
      </FieldLabel>
      <fieldset class="space-y-2">
        <legend class="text-sm font-medium">Beads</legend>
        <For each={Array.from({ length: count() }, (_, i) => i)}>
          {(i) => {
            const row = (rows[i] ??= {} as Row);
            return (
              <div class="grid grid-cols-[minmax(0,1fr)_11.5rem] gap-2 sm:grid-cols-[minmax(0,1fr)_11.5rem_6rem]" data-testid="convoy-bead-row">
                <input
                  ref={(el) => (row.title = el)}
                  class={input}
                  name={`bead-${i}-title`}
                  placeholder={`Bead ${i + 1} title`}
                  aria-label={`Bead ${i + 1} title`}
                  autocomplete="off"
                />
                <RigPicker ref={(el) => (row.rig = el)} town={props.town} label={`Bead ${i + 1} rig`} />
                <input
                  ref={(el) => (row.requires = el)}
                  class={`${input} col-span-2 sm:col-span-1`}
                  name={`bead-${i}-requires`}
                  placeholder="requires"
                  aria-label={`Bead ${i + 1} requires`}
                  autocomplete="off"
                />
              </div>
            );
          }}
        </For>
        <button type="button" class={btn} onClick={() => setCount(count() + 1)} disabled={count() >= 50}>
          Add a bead
        </button>
      </fieldset>
      <ModelField
        ref={(el) => (model = el)}
        hint="asked for by every bead of the convoy; empty: each rig's model"
        placeholder="each rig's"
        problem={problem()}
        onEdit={() => setProblem(null)}
      />
    </FormDialog>
  );
}
