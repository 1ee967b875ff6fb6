/** Re-sling a bead to another rig (`gt_bead_move` in the town room): a new bead there, this one closed as moved. */
import { For, Show, createEffect, createMemo, createSignal, on } from "solid-js";
import type { Bead, BeadMoveResult, Rig } from "../../../party/protocol.ts";
import type { TownStore } from "../stores/town.tsx";
import { input } from "../ui/kit.tsx";
import { shortId } from "../lib/time.ts";
import { missingCapabilities } from "../lib/capabilities.ts";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe, rigTool, townTool } from "./api.ts";

/**
 * `requires`: the bead's required capabilities, when the caller knows them. The server moves a bead
 * to any rig it names (no placement check), so a target lacking one is warned of here, and the move
 * waits for the operator to say they mean it.
 */
export function MoveDialog(props: {
  town: TownStore;
  from: Rig;
  beadId: string;
  title: string;
  requires?: readonly string[];
  open: boolean;
  onClose: () => void;
}) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [moved, setMoved] = createSignal<BeadMoveResult | null>(null);
  const targets = createMemo(() => props.town.sortedRigs().filter((r) => r.id !== props.from.id));
  const [picked, setPicked] = createSignal<string>("");
  const [accepted, setAccepted] = createSignal(false);
  // Read from the bead's rig when the caller did not pass them (the attention lane's items do not carry them).
  const [asked, setAsked] = createSignal<readonly string[] | null>(null);
  const requires = () => props.requires ?? asked();
  const missing = createMemo(() => {
    const target = targets().find((r) => r.name === picked()) ?? targets()[0];
    const needs = requires();
    return target && needs ? missingCapabilities(needs, target.capabilities) : [];
  });
  let rig!: HTMLSelectElement;
  createEffect(
    on(
      () => props.open,
      (open) => {
        if (!open) return;
        setError(null);
        setMoved(null);
        setPicked(rig?.value ?? "");
        setAccepted(false);
        if (props.requires === undefined)
          void rigTool<Bead>(props.town, props.from, "gt_bead_status", { bead_id: props.beadId }).then(
            (bead) => setAsked(bead.requires),
            () => setAsked(null), // unknown: the move itself still says what the server refuses
          );
      },
    ),
  );
  const submit = async () => {
    if (moved()) return props.onClose();
    if (!rig.value) return setError("Pick the rig to move it to.");
    if (missing().length && !accepted()) return setError(`Tick the box to move it to a rig without ${missing().join(", ")}.`);
    // `from` names this rig: the town may not have placed the bead (it was made in the rig), so it
    // may not know where it is.
    const result = await run(
      { busy: setBusy, error: setError },
      () => townTool<BeadMoveResult>(props.town, "gt_bead_move", { bead_id: props.beadId, rig: rig.value, from: props.from.name }),
      describe,
    );
    if (result) setMoved(result);
  };
  return (
    <FormDialog
      open={props.open}
      title="Move to another rig"
      submit={moved() ? "Done" : "Move"}
      busy={busy()}
      error={error()}
      onClose={props.onClose}
      onSubmit={() => void submit()}
      testid="move-dialog"
      cancel={moved() ? "Close" : "Cancel"}
      blocked={!moved() && missing().length > 0 && !accepted()}
      footer={
        <Show when={moved()}>
          {(m) => (
            <p class="rounded-md bg-emerald-500/10 px-3 py-2 text-sm" role="status" data-testid="move-result" data-rig={m().rig} data-bead={m().bead_id}>
              Moved to{" "}
              <a class="font-semibold underline" href={`/t/${props.town.town}/rigs/${encodeURIComponent(m().rig)}/beads/${m().bead_id}`}>
                {m().rig}
              </a>{" "}
              as bead <span class="font-mono">{shortId(m().bead_id)}</span>. This one is closed as moved.
            </p>
          )}
        </Show>
      }
    >
      <p class="text-sm text-zinc-600 dark:text-zinc-300">
        <span class="font-medium">{props.title}</span> becomes a new bead in the rig you pick, with its attempts at zero; this one closes as moved, and a convoy
        counts the new one in its place.
      </p>
      <FieldLabel label="Rig">
        <select
          ref={rig}
          class={input}
          name="rig"
          autofocus
          disabled={!!moved()}
          onChange={(e) => {
            setPicked(e.currentTarget.value);
            setAccepted(false);
          }}
        >
          <Show when={targets().length} fallback={<option value="">No other rig in this town</option>}>
            <For each={targets()}>
              {(r) => (
                <option value={r.name}>
                  {r.name}
                  {r.status !== "ready" ? ` (${r.status})` : ""}
                </option>
              )}
            </For>
          </Show>
        </select>
      </FieldLabel>
      <Show when={!moved() && missing().length}>
        <div class="space-y-2 rounded-md bg-amber-500/10 px-3 py-2 text-sm text-amber-900 dark:text-amber-200" role="alert" data-testid="move-missing">
          <p>
            This rig lacks what the bead requires:{" "}
            <span class="font-mono font-semibold" data-testid="move-missing-list">
              {missing().join(", ")}
            </span>
            . Its agents may not be able to do the work.
          </p>
          <label class="flex items-center gap-2">
            <input type="checkbox" data-testid="move-accept" checked={accepted()} onChange={(e) => setAccepted(e.currentTarget.checked)} />
            Move it there anyway
          </label>
        </div>
      </Show>
    </FormDialog>
  );
}
