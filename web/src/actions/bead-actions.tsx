/**
 * An operator's controls on a bead, where the problem is: retry a failed bead, move it to another
 * rig, close it, fail it. The same tools `gt bead retry|move|update` call. Keys: r retry, m move,
 * c close, f fail (each only when it applies).
 */
import { Show, createSignal } from "solid-js";
import type { Bead } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { createShortcuts } from "../lib/keys.ts";
import { btn, btnPrimary } from "../ui/kit.tsx";
import { ActionDialog } from "./action-dialog.tsx";
import { MoveDialog } from "./move-bead.tsx";
import { describe, rigTool } from "./api.ts";

type Act = "retry" | "move" | "close" | "fail";

/** Which actions a bead in this status allows (the room refuses the others with CONFLICT anyway). */
export function beadActs(status: Bead["status"]): Act[] {
  switch (status) {
    case "failed":
      return ["retry", "move", "close"];
    case "open":
      return ["move", "close", "fail"];
    case "in_progress":
    case "in_review":
      return ["close", "fail"];
    case "closed":
      return [];
    default: {
      const never: never = status;
      return never;
    }
  }
}

export default function BeadActions(props: { bead: Bead }) {
  const town = useTown();
  const rig = useRig();
  const [dialog, setDialog] = createSignal<Act | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [message, setMessage] = createSignal<{ text: string; bad: boolean } | null>(null);
  const can = (act: Act) => beadActs(props.bead.status).includes(act);
  const retry = async () => {
    if (!can("retry") || busy()) return;
    setBusy(true);
    setMessage(null);
    try {
      await rigTool(town, rig.rig, "gt_bead_retry", { bead_id: props.bead.id });
      setMessage({ text: "Retried: the bead is open again, its attempts reset, and it goes to the next free polecat.", bad: false });
    } catch (error) {
      setMessage({ text: describe(error), bad: true });
    } finally {
      setBusy(false);
    }
  };
  const open = (act: Act) => () => {
    if (!can(act)) return;
    if (act === "retry") return void retry();
    setMessage(null);
    setDialog(act);
  };
  createShortcuts({ r: open("retry"), m: open("move"), c: open("close"), f: open("fail") });
  const update = (status: "closed" | "failed") => rigTool(town, rig.rig, "gt_bead_update", { bead_id: props.bead.id, status });
  return (
    <>
      <div
        class="space-y-2 border-t border-zinc-200 px-4 py-3 dark:border-zinc-800"
        data-testid="bead-actions"
        hidden={!beadActs(props.bead.status).length && !message()}
      >
        <div class="flex flex-wrap gap-2">
          <Show when={can("retry")}>
            <button
              class={btnPrimary}
              data-testid="bead-retry"
              disabled={busy()}
              onClick={() => void retry()}
              title="Reopen it with its attempts reset (r)"
              aria-keyshortcuts="r"
            >
              {busy() ? "Retrying…" : "Retry"}
            </button>
          </Show>
          <Show when={can("move")}>
            <button class={btn} data-testid="bead-move" onClick={open("move")} title="Re-sling it to another rig (m)" aria-keyshortcuts="m">
              Move to rig…
            </button>
          </Show>
          <Show when={can("close")}>
            <button class={btn} data-testid="bead-close" onClick={open("close")} title="Close it without a merge (c)" aria-keyshortcuts="c">
              Close…
            </button>
          </Show>
          <Show when={can("fail")}>
            <button
              class={`${btn} text-rose-700 dark:text-rose-400`}
              data-testid="bead-fail"
              onClick={open("fail")}
              title="Mark it failed (f)"
              aria-keyshortcuts="f"
            >
              Fail…
            </button>
          </Show>
        </div>
        <Show when={message()}>
          {(m) => (
            <p
              role={m().bad ? "alert" : "status"}
              data-testid="bead-action-result"
              class={`rounded-md px-3 py-2 text-sm ${m().bad ? "bg-rose-500/10 text-rose-700 dark:text-rose-300" : "bg-emerald-500/10"}`}
            >
              {m().text}
            </p>
          )}
        </Show>
      </div>
      {/* Outside the bar, which hides once nothing applies: a move's result must outlive the bead's close. */}
      <MoveDialog
        town={town}
        from={rig.rig}
        beadId={props.bead.id}
        title={props.bead.title}
        requires={props.bead.requires}
        open={dialog() === "move"}
        onClose={() => setDialog(null)}
      />
      <ActionDialog
        open={dialog() === "close"}
        title="Close this bead?"
        submit="Close bead"
        cancel="Keep open"
        danger
        testid="confirm-close"
        onClose={() => setDialog(null)}
        act={() => update("closed")}
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          <span class="font-medium">{props.bead.title}</span> is closed without a merge and will not be worked on again. A convoy counts it as done.
        </p>
      </ActionDialog>
      <ActionDialog
        open={dialog() === "fail"}
        title="Mark this bead failed?"
        submit="Fail bead"
        danger
        testid="confirm-fail"
        onClose={() => setDialog(null)}
        act={() => update("failed")}
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          <span class="font-medium">{props.bead.title}</span> stops being worked on and shows as failed; you can retry it or move it to another rig later.
        </p>
      </ActionDialog>
    </>
  );
}
