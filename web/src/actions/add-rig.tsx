import { createSignal } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import type { TownStore } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe, splitList, townTool } from "./api.ts";

export function AddRigDialog(props: { town: TownStore; open: boolean; onClose: () => void }) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  let form: Record<"name" | "git_url" | "branch" | "caps" | "max", HTMLInputElement> = {} as never;
  const submit = async () => {
    const max = form.max.value.trim();
    const rig = await run(
      { busy: setBusy, error: setError },
      () =>
        townTool<Rig>(props.town, "gt_rig_add", {
          name: form.name.value.trim(),
          git_url: form.git_url.value.trim(),
          ...(form.branch.value.trim() ? { default_branch: form.branch.value.trim() } : {}),
          ...(form.caps.value.trim() ? { capabilities: splitList(form.caps.value) } : {}),
          ...(max ? { max_polecats: Number(max) } : {}),
        }),
      describe,
    );
    if (rig) {
      for (const el of Object.values(form)) el.value = "";
      props.onClose();
    }
  };
  return (
    <FormDialog open={props.open} title="Add a rig" submit="Add rig" busy={busy()} error={error()} onClose={props.onClose} onSubmit={submit} testid="add-rig-dialog">
      <FieldLabel label="Name" hint="a-z, 0-9 and '-'; used in mail addresses like name/polecats/toast">
        <input ref={(el) => (form.name = el)} class={input} name="name" required pattern="[a-z0-9][a-z0-9\-]{0,39}" autocomplete="off" />
      </FieldLabel>
      <FieldLabel label="Git URL">
        <input ref={(el) => (form.git_url = el)} class={`${input} font-mono`} name="git_url" required placeholder="git@github.com:org/repo.git" autocomplete="off" />
      </FieldLabel>
      <div class="grid grid-cols-2 gap-3">
        <FieldLabel label="Default branch">
          <input ref={(el) => (form.branch = el)} class={`${input} font-mono`} name="default_branch" placeholder="main" />
        </FieldLabel>
        <FieldLabel label="Max polecats">
          <input ref={(el) => (form.max = el)} class={input} name="max_polecats" type="number" min="1" max="64" placeholder="3" />
        </FieldLabel>
      </div>
      <FieldLabel label="Capabilities" hint="what work this rig can take, e.g. ts, web">
        <input ref={(el) => (form.caps = el)} class={input} name="capabilities" autocomplete="off" />
      </FieldLabel>
    </FormDialog>
  );
}
