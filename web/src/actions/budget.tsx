/**
 * A daily budget's operator control: set, raise or lower, and clear the budget of a rig or of the
 * town (gt_budget_set). Raising past today's spend or clearing lifts a hold at once; a run that is
 * running is never stopped by a budget (lifecycle W22).
 */
import { Show, createSignal } from "solid-js";
import type { Budget, BudgetUnit } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { budgetAmount, parseBudget } from "../lib/usage.ts";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe, townTool } from "./api.ts";

export default function BudgetControl(props: { rig?: string; budget: Budget | null | undefined }) {
  const [open, setOpen] = createSignal(false);
  return (
    <>
      <button class={`${btn} px-2 py-0.5 text-xs`} data-testid="open-budget" onClick={() => setOpen(true)}>
        {props.budget ? "Change budget" : "Set a budget"}
      </button>
      {/* Made afresh at each opening, so it starts from the budget set now. */}
      <Show when={open()}>
        <BudgetDialog rig={props.rig} budget={props.budget ?? null} onClose={() => setOpen(false)} />
      </Show>
    </>
  );
}

function BudgetDialog(props: { rig?: string; budget: Budget | null; onClose: () => void }) {
  const town = useTown();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [unit, setUnit] = createSignal<BudgetUnit>(props.budget?.unit ?? "usd");
  let daily!: HTMLInputElement;
  const whose = props.rig ? `rig ${props.rig}` : "the town";
  const send = async (budget: Budget | null) => {
    let sent = false;
    await run(
      { busy: setBusy, error: setError },
      async () => {
        await townTool(town, "gt_budget_set", { ...(props.rig ? { rig: props.rig } : {}), budget });
        sent = true;
      },
      describe,
    );
    if (sent) props.onClose();
  };
  const submit = () => {
    const parsed = parseBudget(unit(), daily.value);
    if ("problem" in parsed) {
      setProblem(parsed.problem);
      return daily.focus();
    }
    void send(parsed.budget);
  };
  return (
    <FormDialog
      open
      title={`Daily budget of ${whose}`}
      submit={props.budget ? "Save budget" : "Set budget"}
      busy={busy()}
      error={error()}
      onClose={props.onClose}
      onSubmit={submit}
      testid="budget-dialog"
      footer={
        <Show when={props.budget}>
          <p class="flex items-center justify-between gap-2 text-sm text-zinc-600 dark:text-zinc-300">
            <span>Now {budgetAmount(props.budget!)} a day.</span>
            <button type="button" class={btn} data-testid="budget-clear" disabled={busy()} onClick={() => void send(null)}>
              Clear budget
            </button>
          </p>
        </Show>
      }
    >
      <div class="grid grid-cols-2 gap-3">
        <FieldLabel label="Unit">
          <select class={input} name="unit" onChange={(e) => setUnit(e.currentTarget.value as BudgetUnit)}>
            <option value="usd" selected={unit() === "usd"}>
              USD
            </option>
            <option value="tokens" selected={unit() === "tokens"}>
              tokens
            </option>
          </select>
        </FieldLabel>
        <FieldLabel label="A day (UTC)">
          <input
            ref={daily}
            class={`${input} tabular-nums`}
            name="daily"
            inputmode="decimal"
            autocomplete="off"
            value={props.budget ? String(props.budget.daily) : ""}
            placeholder={unit() === "usd" ? "5" : "200k"}
            aria-invalid={!!problem()}
            onInput={() => setProblem(null)}
          />
          <Show when={problem()}>
            <span class="block text-xs text-rose-700 dark:text-rose-300" role="alert" data-testid="field-error" data-field="daily">
              {problem()}
            </span>
          </Show>
        </FieldLabel>
      </div>
      <p class="text-sm text-zinc-600 dark:text-zinc-300" data-testid="budget-explain">
        When {whose} has spent this today, no new run starts {props.rig ? "in it" : "in any rig"}: its beads wait and say why. A run already going is not
        stopped; its cost counts when it ends. Raising or clearing the budget lets work start again at once.
      </p>
    </FormDialog>
  );
}
