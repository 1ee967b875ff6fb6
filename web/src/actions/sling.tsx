import { For, Show, createSignal } from "solid-js";
import { ModelField, PRIORITY_OPTIONS, RigPicker } from "./fields.tsx";
import type { SlingResult } from "../../../party/protocol.ts";
import type { TownStore } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";
import { shortId } from "../lib/time.ts";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe, splitList, townTool } from "./api.ts";
import { modelProblem } from "../lib/runtime.ts";

/** Sling one bead: to the rig the Mayor picks, or to a chosen one; shows where it went and why. */
export function SlingDialog(props: { town: TownStore; open: boolean; onClose: () => void; rig?: string }) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [result, setResult] = createSignal<SlingResult | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  let model!: HTMLInputElement;
  let title!: HTMLInputElement;
  let body!: HTMLTextAreaElement;
  let requires!: HTMLInputElement;
  let priority!: HTMLSelectElement;
  let rig!: HTMLSelectElement;
  const submit = async () => {
    setResult(null);
    // The rig's runtime decides whether a model fits it (the server checks); here only its shape.
    const wrong = modelProblem("", model.value.trim());
    setProblem(wrong);
    if (wrong) return model.focus();
    const value = await run(
      { busy: setBusy, error: setError },
      () =>
        townTool<SlingResult>(props.town, "gt_sling", {
          title: title.value.trim(),
          ...(body.value.trim() ? { body: body.value } : {}),
          ...(rig.value ? { rig: rig.value } : {}),
          ...(requires.value.trim() ? { requires: splitList(requires.value) } : {}),
          priority: priority.value,
          ...(model.value.trim() ? { model: model.value.trim() } : {}),
        }),
      describe,
    );
    if (value) {
      setResult(value);
      title.value = "";
      body.value = "";
      model.value = "";
    }
  };
  return (
    <FormDialog
      open={props.open}
      title="Sling a bead"
      submit="Sling"
      busy={busy()}
      error={error()}
      onClose={() => {
        setResult(null);
        setError(null);
        props.onClose();
      }}
      onSubmit={submit}
      testid="sling-dialog"
      cancel={result() ? "Close" : "Cancel"}
      footer={
        <Show when={result()}>
          {(r) => (
            <div class="rounded-md bg-emerald-500/10 px-3 py-2 text-sm" data-testid="sling-result" data-rig={r().rig} data-bead={r().bead_id}>
              <p>
                Slung to{" "}
                <a class="font-semibold underline" href={`/t/${props.town.town}/rigs/${r().rig}`}>
                  {r().rig}
                </a>{" "}
                as bead{" "}
                <a
                  class="font-mono underline"
                  href={`/t/${props.town.town}/rigs/${r().rig}/beads/${r().bead_id}`}
                  data-testid="sling-bead-link"
                  title="Open the bead"
                >
                  {shortId(r().bead_id)}
                </a>
                .
              </p>
              <p class="mt-1 text-zinc-600 dark:text-zinc-300" data-testid="sling-reason">
                <span class="font-medium">Mayor:</span> {r().reason}
              </p>
            </div>
          )}
        </Show>
      }
    >
      <FieldLabel label="Title">
        <input ref={title} class={input} name="title" required maxLength={200} autocomplete="off" />
      </FieldLabel>
      <FieldLabel label="Description">
        <textarea ref={body} class={input} name="body" rows="3" />
      </FieldLabel>
      <div class="grid grid-cols-2 gap-3">
        <FieldLabel label="Rig">
          <RigPicker ref={(el) => (rig = el)} town={props.town} selected={props.rig} />
        </FieldLabel>
        <FieldLabel label="Priority">
          <select ref={priority} class={input} name="priority">
            <For each={PRIORITY_OPTIONS}>{(p) => <option selected={p === "medium"}>{p}</option>}</For>
          </select>
        </FieldLabel>
      </div>
      <div class="grid grid-cols-2 gap-3">
        <FieldLabel label="Requires" hint="capabilities the rig must have, e.g. ts web">
          <input ref={requires} class={input} name="requires" autocomplete="off" />
        </FieldLabel>
        <ModelField ref={(el) => (model = el)} hint="empty: the rig's model" placeholder="the rig's" problem={problem()} onEdit={() => setProblem(null)} />
      </div>
    </FormDialog>
  );
}
