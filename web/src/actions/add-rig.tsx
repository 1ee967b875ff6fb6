import { Show, createSignal, type JSX } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import { gitUrlProblem } from "../../../party/protocol/names.ts";
import { SLUG_RE } from "../../../party/protocol/patterns.ts";
import type { TownStore } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";
import { modelProblem } from "../lib/runtime.ts";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { RuntimeFields } from "./fields.tsx";
import { describe, splitList, townTool } from "./api.ts";

type FieldName = "name" | "git_url" | "branch" | "caps" | "max" | "runtime" | "model";
type Values = Record<FieldName, string>;

/**
 * What is wrong with the form, field by field, in the app's words (the rules the town applies:
 * party/protocol.ts), so a person reads why before anything is sent; the server still checks.
 */
export function addRigProblems(v: Values): Partial<Record<FieldName, string>> {
  const problems: Partial<Record<FieldName, string>> = {};
  if (!v.name) problems.name = "Give the rig a name, e.g. backend.";
  else if (!SLUG_RE.test(v.name))
    problems.name = "Use lowercase letters a–z, digits and '-' (not first), at most 40 characters: it becomes part of mail addresses.";
  if (!v.git_url) problems.git_url = "Give the repository to clone: an https, ssh or git URL, user@host:path, or an absolute path.";
  else {
    const problem = gitUrlProblem(v.git_url);
    if (problem) problems.git_url = `${problem[0]!.toUpperCase()}${problem.slice(1)}.`;
  }
  if (v.branch && !/^[A-Za-z0-9._/-]{1,100}$/.test(v.branch)) problems.branch = "A branch name has only letters, digits and . _ / -";
  const badCap = splitList(v.caps).find((c) => !SLUG_RE.test(c));
  if (badCap) problems.caps = `“${badCap}” is not a capability: use lowercase letters, digits and '-'.`;
  if (v.max && !(/^\d+$/.test(v.max) && Number(v.max) >= 1 && Number(v.max) <= 64)) problems.max = "A whole number from 1 to 64.";
  const model = modelProblem(v.runtime, v.model);
  if (model) problems.model = model;
  return problems;
}

export function AddRigDialog(props: { town: TownStore; open: boolean; onClose: () => void }) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [problems, setProblems] = createSignal<Partial<Record<FieldName, string>>>({});
  let form: Record<FieldName, HTMLInputElement | HTMLSelectElement> = {} as never;
  const values = (): Values => ({
    name: form.name.value.trim(),
    git_url: form.git_url.value.trim(),
    branch: form.branch.value.trim(),
    caps: form.caps.value.trim(),
    max: form.max.value.trim(),
    runtime: form.runtime.value,
    model: form.model.value.trim(),
  });
  const submit = async () => {
    const v = values();
    const found = addRigProblems(v);
    setProblems(found);
    const first = (Object.keys(form) as FieldName[]).find((k) => found[k]);
    if (first) {
      setError(null);
      form[first].focus();
      return;
    }
    const rig = await run(
      { busy: setBusy, error: setError },
      () =>
        townTool<Rig>(props.town, "gt_rig_add", {
          name: v.name,
          git_url: v.git_url,
          ...(v.branch ? { default_branch: v.branch } : {}),
          ...(v.caps ? { capabilities: splitList(v.caps) } : {}),
          ...(v.max ? { max_polecats: Number(v.max) } : {}),
          ...(v.runtime ? { runtime: v.runtime } : {}),
          ...(v.model ? { model: v.model } : {}),
        }),
      describe,
    );
    if (rig) {
      for (const el of Object.values(form)) el.value = "";
      form.runtime.dispatchEvent(new Event("change")); // the model field follows the runtime
      props.onClose();
    }
  };
  // The form is checked by the app (above), not by the browser's generic bubbles.
  const field = (name: FieldName, el: HTMLInputElement | HTMLSelectElement) => {
    form[name] = el;
    el.addEventListener("input", () => problems()[name] && setProblems({ ...problems(), [name]: undefined }));
  };
  const problem = (name: FieldName): JSX.Element => (
    <Show when={problems()[name]}>
      {(text) => (
        <span class="block text-xs text-rose-700 dark:text-rose-300" role="alert" data-testid="field-error" data-field={name}>
          {text()}
        </span>
      )}
    </Show>
  );
  return (
    <FormDialog
      open={props.open}
      title="Add a rig"
      submit="Add rig"
      busy={busy()}
      error={error()}
      onClose={() => {
        setProblems({});
        props.onClose();
      }}
      onSubmit={submit}
      testid="add-rig-dialog"
    >
      <FieldLabel label="Name" hint="a-z, 0-9 and '-'; used in mail addresses like name/polecats/toast">
        <input ref={(el) => field("name", el)} class={input} name="name" autocomplete="off" aria-invalid={!!problems().name} />
        {problem("name")}
      </FieldLabel>
      <FieldLabel label="Git URL">
        <input
          ref={(el) => field("git_url", el)}
          class={`${input} font-mono`}
          name="git_url"
          placeholder="git@github.com:org/repo.git"
          autocomplete="off"
          aria-invalid={!!problems().git_url}
        />
        {problem("git_url")}
      </FieldLabel>
      <div class="grid grid-cols-2 gap-3">
        <FieldLabel label="Default branch">
          <input ref={(el) => field("branch", el)} class={`${input} font-mono`} name="default_branch" placeholder="main" aria-invalid={!!problems().branch} />
          {problem("branch")}
        </FieldLabel>
        <FieldLabel label="Max polecats">
          <input ref={(el) => field("max", el)} class={input} name="max_polecats" inputmode="numeric" placeholder="3" aria-invalid={!!problems().max} />
          {problem("max")}
        </FieldLabel>
      </div>
      <FieldLabel label="Capabilities" hint="what work this rig can take, e.g. ts, web">
        <input ref={(el) => field("caps", el)} class={input} name="capabilities" autocomplete="off" aria-invalid={!!problems().caps} />
        {problem("caps")}
      </FieldLabel>
      <RuntimeFields
        runtimeRef={(el) => field("runtime", el)}
        modelRef={(el) => field("model", el)}
        invalid={!!problems().model}
        modelProblem={problem("model")}
      />
      <p class="text-xs text-zinc-500">
        Runtime: how its agents run (the container's <code class="font-mono">--runtime</code> unless you pick one); a model left empty is the runtime's own.
        Both can be changed later on the rig's page.
      </p>
    </FormDialog>
  );
}
