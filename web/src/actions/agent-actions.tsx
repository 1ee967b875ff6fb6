/**
 * An operator's controls on an agent: stop its run (its bead fails, to retry or move), restart it
 * (its bead is dispatched again, no attempt counted), or mail it. `gt agent stop|restart`.
 */
import { Show, createSignal } from "solid-js";
import type { Rig } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn } from "../ui/kit.tsx";
import { ActionDialog } from "./action-dialog.tsx";
import { SendMailDialog } from "./send-mail.tsx";
import { rigTool } from "./api.ts";

export default function AgentActions(props: { rig: Pick<Rig, "id">; identity: string; running: boolean; compact?: boolean; mail?: boolean }) {
  const town = useTown();
  const [dialog, setDialog] = createSignal<"stop" | "restart" | "mail" | null>(null);
  const size = () => (props.compact ? `${btn} px-2 py-0.5 text-xs` : btn);
  const call = (tool: "gt_agent_stop" | "gt_agent_restart") => (reason: string | undefined) =>
    rigTool(town, props.rig, tool, { identity: props.identity, ...(reason ? { reason } : {}) });
  return (
    <span class="inline-flex flex-wrap gap-1.5" data-testid="agent-actions">
      <Show when={props.running}>
        <button class={size()} data-testid="agent-restart" onClick={() => setDialog("restart")} title="Stop this run and dispatch its bead again">
          Restart…
        </button>
        <button
          class={`${size()} text-rose-700 dark:text-rose-400`}
          data-testid="agent-stop"
          onClick={() => setDialog("stop")}
          title="Stop this run; its bead fails"
        >
          Stop…
        </button>
      </Show>
      <Show when={props.mail !== false}>
        <button class={size()} data-testid="agent-mail" onClick={() => setDialog("mail")}>
          Mail
        </button>
      </Show>
      <ActionDialog
        open={dialog() === "restart"}
        title={`Restart ${props.identity}?`}
        submit="Restart"
        danger
        testid="confirm-restart"
        note={{ label: "Reason (optional)", name: "reason", max: 500 }}
        onClose={() => setDialog(null)}
        act={call("gt_agent_restart")}
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          Its process is stopped and its bead goes back to open, with no attempt counted, so a polecat takes it again. Uncommitted work in its worktree is lost.
        </p>
      </ActionDialog>
      <ActionDialog
        open={dialog() === "stop"}
        title={`Stop ${props.identity}?`}
        submit="Stop agent"
        danger
        testid="confirm-stop"
        note={{ label: "Reason (optional)", hint: "Kept on the bead as why it failed.", name: "reason", max: 500 }}
        onClose={() => setDialog(null)}
        act={call("gt_agent_stop")}
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          Its process is stopped and its bead is marked failed (stopped by the operator); you can retry it or move it to another rig.
        </p>
      </ActionDialog>
      <Show when={props.mail !== false}>
        <SendMailDialog open={dialog() === "mail"} onClose={() => setDialog(null)} to={props.identity} />
      </Show>
    </span>
  );
}
