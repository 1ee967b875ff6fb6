/** A rig's operator controls: sling a bead straight to it, or remove it (typed confirmation). */
import { createSignal } from "solid-js";
import { useNavigate } from "@solidjs/router";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { btn, input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { SlingDialog } from "./sling.tsx";
import { describe, townTool } from "./api.ts";

export default function RigActions() {
  const town = useTown();
  const rig = useRig();
  const navigate = useNavigate();
  const [dialog, setDialog] = createSignal<"sling" | "remove" | null>(null);
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
      <button class={`${btn} text-rose-700 dark:text-rose-400`} data-testid="open-remove-rig" onClick={() => setDialog("remove")}>
        Remove
      </button>
      <SlingDialog town={town} rig={name} open={dialog() === "sling"} onClose={() => setDialog(null)} />
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
