import { Show, createEffect, type JSX, type ParentProps } from "solid-js";
import { btn, btnPrimary } from "../ui/kit.tsx";

/** A modal form on the native <dialog>: focus is trapped, Esc closes it, the page behind is inert. */
export function FormDialog(
  props: ParentProps<{
    open: boolean;
    title: string;
    submit: string;
    busy: boolean;
    error: string | null;
    onClose: () => void;
    onSubmit: () => void;
    testid: string;
    danger?: boolean;
    footer?: JSX.Element;
    /** A confirmation with nothing to type: focus its button, so Enter confirms and Escape cancels. */
    focusSubmit?: boolean;
    /**
     * The button that leaves without acting: "Cancel" unless told, so it is never read as the action
     * ("Close" beside "Close bead"). A dialog that has done its work may say "Close".
     */
    cancel?: string;
    /** The action may not be taken yet (e.g. a warning not acknowledged). */
    blocked?: boolean;
  }>,
) {
  let dialog!: HTMLDialogElement;
  createEffect(() => {
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog
      ref={dialog}
      data-testid={props.testid}
      onClose={() => props.onClose()}
      // Esc closes it even when Chrome would skip the native close: a dialog opened late after the
      // click (a lazily loaded form on a busy machine) has no user activation left, and Chrome then
      // may ignore the close request.
      onKeyDown={(e) => {
        if (e.key !== "Escape" || e.defaultPrevented) return;
        e.preventDefault();
        props.onClose();
      }}
      class="m-auto w-[min(32rem,calc(100vw-1.5rem))] rounded-xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-2xl backdrop:bg-zinc-950/50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <form
        class="space-y-3 p-5"
        onSubmit={(e) => {
          e.preventDefault();
          props.onSubmit();
        }}
      >
        <h2 class="text-base font-semibold">{props.title}</h2>
        {props.children}
        <Show when={props.error}>
          <p role="alert" class="whitespace-pre-wrap rounded-md bg-rose-500/10 px-3 py-2 text-sm text-rose-700 dark:text-rose-300" data-testid="action-error">
            {props.error}
          </p>
        </Show>
        {props.footer}
        <div class="flex justify-end gap-2 pt-1">
          <button type="button" class={btn} data-testid="action-cancel" onClick={() => props.onClose()}>
            {props.cancel ?? "Cancel"}
          </button>
          <button
            type="submit"
            class={props.danger ? btn.replace("text-zinc-800", "text-rose-700") : btnPrimary}
            disabled={props.busy || props.blocked}
            data-testid="action-submit"
            autofocus={props.focusSubmit}
          >
            {props.busy ? "Working…" : props.submit}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function FieldLabel(props: ParentProps<{ label: string; hint?: string }>) {
  return (
    <label class="block space-y-1 text-sm">
      <span class="font-medium">{props.label}</span>
      {props.children}
      <Show when={props.hint}>
        <span class="block text-xs text-zinc-500">{props.hint}</span>
      </Show>
    </label>
  );
}

/** Runs a tool call with busy and error state for a form. */
export function run<T>(
  set: { busy: (b: boolean) => void; error: (e: string | null) => void },
  call: () => Promise<T>,
  describe: (e: unknown) => string,
): Promise<T | undefined> {
  set.busy(true);
  set.error(null);
  return call()
    .catch((e: unknown) => {
      set.error(describe(e));
      return undefined;
    })
    .finally(() => set.busy(false));
}
