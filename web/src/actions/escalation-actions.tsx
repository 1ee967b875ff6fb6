/** Acknowledge ("someone is on it") or resolve an escalation, each with an optional note (`gt escalation ack|resolve`). */
import { Show, createSignal } from "solid-js";
import type { Escalation, Rig } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn } from "../ui/kit.tsx";
import { ActionDialog } from "./action-dialog.tsx";
import { describe, rigTool } from "./api.ts";
import type { Lane } from "../lib/attention.ts";
import { shortId } from "../lib/time.ts";
import { plural } from "../lib/words.ts";

export default function EscalationActions(props: { rig: Pick<Rig, "id">; escalation: Pick<Escalation, "id" | "title" | "status">; compact?: boolean }) {
  const town = useTown();
  const [dialog, setDialog] = createSignal<"ack" | "resolve" | null>(null);
  const size = () => (props.compact ? `${btn} px-2 py-0.5 text-xs` : btn);
  return (
    <span class="inline-flex flex-wrap gap-1.5" data-testid="escalation-actions">
      <Show when={props.escalation.status === "open"}>
        <button class={size()} data-testid="escalation-ack" onClick={() => setDialog("ack")}>
          Acknowledge
        </button>
      </Show>
      <Show when={props.escalation.status !== "resolved"}>
        <button class={size()} data-testid="escalation-resolve" onClick={() => setDialog("resolve")}>
          Resolve
        </button>
      </Show>
      <ActionDialog
        open={dialog() === "ack"}
        title="Acknowledge this escalation"
        submit="Acknowledge"
        testid="ack-dialog"
        note={{ label: "Note (optional)", hint: "What you are doing about it; agents and other operators read it." }}
        onClose={() => setDialog(null)}
        act={(note) => rigTool(town, props.rig, "gt_escalation_ack", { id: props.escalation.id, ...(note ? { note } : {}) })}
      >
        <p class="text-sm font-medium">{props.escalation.title}</p>
      </ActionDialog>
      <ActionDialog
        open={dialog() === "resolve"}
        title="Resolve this escalation"
        submit="Resolve"
        testid="resolve-dialog"
        note={{ label: "Note (optional)", hint: "How it was resolved." }}
        onClose={() => setDialog(null)}
        act={(note) => rigTool(town, props.rig, "gt_escalation_resolve", { id: props.escalation.id, ...(note ? { note } : {}) })}
      >
        <p class="text-sm font-medium">{props.escalation.title}</p>
      </ActionDialog>
    </span>
  );
}

/**
 * Acknowledge several open escalations from the attention lane with one note: the same tool as one
 * at a time, once per escalation, and then how many succeeded and which failed, and why.
 * `onDone` gets the lane keys of those acknowledged (they leave the selection) and what to say (the
 * lane says it: this bar goes once nothing is selected).
 */
export function BulkAcknowledge(props: { rows: Lane[]; onDone: (keys: string[], result: string) => void; onClear: () => void }) {
  const town = useTown();
  const [open, setOpen] = createSignal(false);
  const act = async (note: string | undefined) => {
    const rows = [...props.rows];
    const outcomes = await Promise.allSettled(rows.map((row) => rigTool(town, row.rig, "gt_escalation_ack", { id: row.item.id, ...(note ? { note } : {}) })));
    const done = rows.filter((_, i) => outcomes[i]!.status === "fulfilled");
    const failed = outcomes.flatMap((o, i) => (o.status === "rejected" ? [`${rows[i]!.rig.name} ${shortId(rows[i]!.item.id)}: ${describe(o.reason)}`] : []));
    const said = failed.length
      ? `Acknowledged ${done.length} of ${rows.length}; ${failed.length} failed (still selected): ${failed.join("; ")}`
      : `Acknowledged ${plural(done.length, "escalation")}.`;
    props.onDone(
      done.map((r) => r.key),
      said,
    );
    // The dialog stays open with the reasons while any failed.
    if (failed.length) throw new Error(said);
  };
  return (
    <div
      class="flex flex-wrap items-center gap-2 border-b border-zinc-200 bg-zinc-50 px-4 py-1.5 text-sm dark:border-zinc-800 dark:bg-zinc-900"
      data-testid="bulk-bar"
    >
      <span data-testid="bulk-count">{plural(props.rows.length, "escalation")} selected</span>
      <button class={`${btn} px-2 py-0.5 text-xs`} data-testid="bulk-ack" onClick={() => setOpen(true)}>
        Acknowledge {props.rows.length}…
      </button>
      <button class={`${btn} px-2 py-0.5 text-xs`} data-testid="bulk-clear" onClick={() => props.onClear()}>
        Clear selection
      </button>
      <ActionDialog
        open={open()}
        title={`Acknowledge ${plural(props.rows.length, "escalation")}`}
        submit={`Acknowledge ${props.rows.length}`}
        testid="bulk-ack-dialog"
        note={{ label: "Note (optional)", hint: "One note for each of them: what you are doing about it; agents and other operators read it." }}
        onClose={() => setOpen(false)}
        act={act}
      >
        <ul class="max-h-48 list-disc overflow-auto pl-5 text-sm">
          {props.rows.map((row) => (
            <li>
              <span class="font-medium">{row.item.title}</span> <span class="text-xs text-zinc-500">({row.rig.name})</span>
            </li>
          ))}
        </ul>
      </ActionDialog>
    </div>
  );
}
