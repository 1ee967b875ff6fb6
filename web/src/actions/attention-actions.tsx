/** The inline action of an attention-lane row: the one thing an operator most likely does about it. */
import { Match, Show, Switch, createSignal } from "solid-js";
import type { Lane } from "../lib/attention.ts";
import { useTown } from "../stores/town.tsx";
import { btn } from "../ui/kit.tsx";
import { MoveDialog } from "./move-bead.tsx";
import EscalationActions from "./escalation-actions.tsx";
import AgentActions from "./agent-actions.tsx";
import { describe, rigTool } from "./api.ts";
import BudgetControl from "./budget.tsx";

const small = `${btn} px-2 py-0.5 text-xs`;

/** `onMove`: the lane holds the move dialog, so its result stays on screen after the moved bead leaves the lane. */
export default function AttentionActions(props: { row: Lane; onMove: (row: Lane) => void }) {
  return (
    <Switch>
      <Match when={props.row.item.kind === "failed_bead"}>
        <FailedBeadActions row={props.row} onMove={props.onMove} />
      </Match>
      <Match when={props.row.item.kind === "escalation"}>
        <EscalationActions rig={props.row.rig} escalation={{ id: props.row.item.id, title: props.row.item.title, status: "open" }} compact />
      </Match>
      <Match when={props.row.item.kind === "agent"}>
        <AgentActions rig={props.row.rig} identity={props.row.item.id} running compact mail={false} />
      </Match>
      <Match when={props.row.item.kind === "waiting_mail"}>
        <AgentActions rig={props.row.rig} identity={props.row.item.id} running={false} compact />
      </Match>
      <Match when={props.row.item.kind === "budget"}>
        <BudgetActions row={props.row} />
      </Match>
    </Switch>
  );
}

function FailedBeadActions(props: { row: Lane; onMove: (row: Lane) => void }) {
  const town = useTown();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const retry = async () => {
    setBusy(true);
    setError(null);
    try {
      // The row leaves the lane when the rig's summary no longer lists the bead.
      await rigTool(town, props.row.rig, "gt_bead_retry", { bead_id: props.row.item.id });
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="inline-flex flex-wrap items-center gap-1.5">
      <button class={small} data-testid="attention-retry" disabled={busy()} onClick={() => void retry()}>
        {busy() ? "Retrying…" : "Retry"}
      </button>
      <button class={small} data-testid="attention-move" onClick={() => props.onMove(props.row)}>
        Move…
      </button>
      <Show when={error()}>
        <span role="alert" class="text-xs text-rose-600 dark:text-rose-400" data-testid="attention-error">
          {error()}
        </span>
      </Show>
    </span>
  );
}

/** The lane's one move dialog, for the row whose Move was pressed. */
export function LaneMoveDialog(props: { row: Lane | null; onClose: () => void }) {
  const town = useTown();
  return (
    <Show when={props.row}>
      {(row) => <MoveDialog town={town} from={row().rig} beadId={row().item.id} title={row().item.title} open onClose={props.onClose} />}
    </Show>
  );
}

/** A budget reached: raise or clear the budget that holds the rig (its own, or the town's). */
function BudgetActions(props: { row: Lane }) {
  const town = useTown();
  const byTown = () => props.row.rig.summary.usage?.hold?.by === "town";
  return (
    <Show when={byTown()} fallback={<BudgetControl rig={props.row.rig.name} budget={props.row.rig.summary.usage?.budget} />}>
      <BudgetControl budget={town.usage()?.budget} />
    </Show>
  );
}
