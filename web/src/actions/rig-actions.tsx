/**
 * A rig's operator controls: sling a bead straight to it, change how its agents run (runtime and
 * model, from the next run), or remove it (typed confirmation).
 */
import { Show, createSignal } from "solid-js";
import { useNavigate } from "@solidjs/router";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { btn, input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { SlingDialog } from "./sling.tsx";
import { RuntimeFields } from "./fields.tsx";
import { describe, townTool } from "./api.ts";
import { modelProblem } from "../lib/runtime.ts";
import type { Rig } from "../../../party/protocol.ts";

export default function RigActions() {
  const town = useTown();
  const rig = useRig();
  const navigate = useNavigate();
  const [dialog, setDialog] = createSignal<"sling" | "runtime" | "remove" | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  let confirm!: HTMLInputElement;
  const name = rig.rig.name;
  const remove = async () => {
    if (confirm.value.trim() !== name) return setError(`Type ${name} to confirm.`);
    const ok = await run({ busy: setBusy, error: setError }, () => townTool(town, "gt_rig_remove", { name }), describe);
    if (ok !== undefined) {
      setDialog(null);
      navigate(`/t/${town.town}`);
    }
  };
  return (
    <div class="flex gap-2" data-testid="operator-actions">
      <button class={btn} data-testid="open-sling" onClick={() => setDialog("sling")}>
        Sling here
      </button>
      <button class={btn} data-testid="open-rig-runtime" onClick={() => setDialog("runtime")}>
        Runtime
      </button>
      <button class={`${btn} text-rose-700 dark:text-rose-400`} data-testid="open-remove-rig" onClick={() => setDialog("remove")}>
        Remove
      </button>
      <SlingDialog town={town} rig={name} open={dialog() === "sling"} onClose={() => setDialog(null)} />
      {/* Made afresh at each opening, so it starts from what the registry holds now. */}
      <Show when={dialog() === "runtime"}>
        <RuntimeDialog onClose={() => setDialog(null)} />
      </Show>
      <FormDialog
        open={dialog() === "remove"}
        title={`Remove rig ${name}?`}
        submit="Remove rig"
        danger
        busy={busy()}
        error={error()}
        onClose={() => setDialog(null)}
        onSubmit={remove}
        testid="remove-rig-dialog"
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          Its agents stop, its open beads and convoy beads fail, and mail to it bounces. The git remote is untouched.
        </p>
        <FieldLabel label={`Type ${name} to confirm`}>
          <input ref={confirm} class={`${input} font-mono`} name="confirm" autocomplete="off" />
        </FieldLabel>
      </FormDialog>
    </div>
  );
}

/** The rig's runtime and model: what the registry holds, changed with gt_rig_update; from the next run. */
function RuntimeDialog(props: { onClose: () => void }) {
  const town = useTown();
  const rig = useRig();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  const initial = { runtime: rig.rig.runtime ?? "", model: rig.rig.model ?? "" };
  let runtime!: HTMLSelectElement;
  let model!: HTMLInputElement;
  const submit = async () => {
    const chosen = { runtime: runtime.value, model: model.value.trim() };
    const wrong = modelProblem(chosen.runtime, chosen.model);
    setProblem(wrong);
    if (wrong) return model.focus();
    // Only what changed: "" is the default, null to the registry.
    const args = {
      ...(chosen.runtime !== initial.runtime ? { runtime: chosen.runtime || null } : {}),
      ...(chosen.model !== initial.model ? { model: chosen.model || null } : {}),
    };
    if (Object.keys(args).length === 0) return props.onClose();
    const done = await run({ busy: setBusy, error: setError }, () => townTool<Rig>(town, "gt_rig_update", { name: rig.rig.name, ...args }), describe);
    if (done) props.onClose();
  };
  return (
    <FormDialog
      open
      title={`How ${rig.rig.name}'s agents run`}
      submit="Save"
      busy={busy()}
      error={error()}
      onClose={props.onClose}
      onSubmit={submit}
      testid="rig-runtime-dialog"
    >
      <RuntimeFields
        runtime={initial.runtime}
        model={initial.model}
        runtimeRef={(el) => (runtime = el)}
        modelRef={(el) => {
          model = el;
          el.addEventListener("input", () => setProblem(null));
        }}
        invalid={!!problem()}
        modelProblem={
          <Show when={problem()}>
            <span class="block text-xs text-rose-700 dark:text-rose-300" role="alert" data-testid="field-error" data-field="model">
              {problem()}
            </span>
          </Show>
        }
      />
      <p class="text-sm text-zinc-600 dark:text-zinc-300" data-testid="runtime-next-run">
        Applies from the rig's next run: agents at work now finish with what they started with. The container's default is its{" "}
        <code class="font-mono">--runtime</code>; a model left empty is the runtime's own.
      </p>
    </FormDialog>
  );
}
