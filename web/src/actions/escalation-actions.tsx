/** Acknowledge ("someone is on it") or resolve an escalation, each with an optional note (`gt escalation ack|resolve`). */
import { Show, createSignal } from "solid-js";
import type { Escalation, Rig } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn } from "../ui/kit.tsx";
import { ActionDialog } from "./action-dialog.tsx";
import { rigTool } from "./api.ts";

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
