import { Show, createEffect, createSignal, on, type ParentProps } from "solid-js";
import { input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe } from "./api.ts";

/**
 * One operator action behind a dialog: a confirmation for what cannot be undone, or a note to go
 * with it (an escalation's acknowledgement, a stop's reason). Enter confirms, Escape cancels; a
 * refused call keeps the dialog open with the server's reason.
 */
export function ActionDialog(
  props: ParentProps<{
    open: boolean;
    title: string;
    submit: string;
    testid: string;
    danger?: boolean;
    /** The leave-without-acting button's label (FormDialog: "Cancel" unless told). */
    cancel?: string;
    /** An optional note; `max` its length (notes 2,000, reasons 500, as the room allows). */
    note?: { label: string; hint?: string; name?: string; max?: number };
    onClose: () => void;
    act: (note: string | undefined) => Promise<unknown>;
  }>,
) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  let note: HTMLInputElement | undefined;
  createEffect(
    on(
      () => props.open,
      (open) => {
        if (!open) return;
        setError(null);
        if (note) note.value = "";
      },
    ),
  );
  const submit = async () => {
    const text = note?.value.trim();
    const done = await run({ busy: setBusy, error: setError }, () => props.act(text ? text : undefined).then(() => true), describe);
    if (done) props.onClose();
  };
  return (
    <FormDialog
      open={props.open}
      title={props.title}
      submit={props.submit}
      danger={props.danger}
      cancel={props.cancel}
      busy={busy()}
      error={error()}
      onClose={props.onClose}
      onSubmit={() => void submit()}
      testid={props.testid}
      focusSubmit={!props.note}
    >
      {props.children}
      <Show when={props.note}>
        {(n) => (
          <FieldLabel label={n().label} hint={n().hint}>
            <input ref={note} class={input} name={n().name ?? "note"} maxLength={n().max ?? 2000} autocomplete="off" autofocus />
          </FieldLabel>
        )}
      </Show>
    </FormDialog>
  );
}
