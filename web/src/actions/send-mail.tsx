/** Send mail as the operator to any identity of the town. */
import { For, Show, createEffect, createMemo, createSignal, on } from "solid-js";
import type { MailSendResult } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { FieldLabel, FormDialog, run } from "./dialog.tsx";
import { describe, townTool } from "./api.ts";

/** The mail form; `to` prefills the recipient (an agent's page mails that agent). */
export function SendMailDialog(props: { open: boolean; onClose: () => void; to?: string }) {
  const town = useTown();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [sent, setSent] = createSignal<MailSendResult | null>(null);
  let to!: HTMLInputElement;
  let subject!: HTMLInputElement;
  let body!: HTMLTextAreaElement;
  const suggestions = createMemo(() => ["mayor", ...town.sortedRigs().flatMap((r) => [`${r.name}/witness`, `${r.name}/refinery`])]);
  createEffect(
    on(
      () => props.open,
      (open) => {
        if (!open) return;
        setError(null);
        if (props.to) to.value = props.to;
        // With the recipient given, start where there is something to type.
        if (props.to) queueMicrotask(() => subject.focus());
      },
    ),
  );
  const submit = async () => {
    setSent(null);
    const result = await run(
      { busy: setBusy, error: setError },
      () => townTool<MailSendResult>(town, "gt_mail_send", { to: to.value.trim(), subject: subject.value.trim(), body: body.value }),
      describe,
    );
    if (result) {
      setSent(result);
      subject.value = "";
      body.value = "";
    }
  };
  return (
    <FormDialog
      open={props.open}
      title="Send mail as operator"
      submit="Send"
      busy={busy()}
      error={error()}
      onClose={() => {
        setSent(null);
        props.onClose();
      }}
      onSubmit={submit}
      testid="mail-dialog"
      cancel={sent() ? "Close" : "Cancel"}
      footer={
        <Show when={sent()}>
          {(s) => (
            <p class="rounded-md bg-emerald-500/10 px-3 py-2 text-sm" data-testid="mail-result">
              {s().state === "delivered" ? "Delivered to the inbox." : "Queued: it will be delivered when the recipient's rig is reachable."}
            </p>
          )}
        </Show>
      }
    >
      <FieldLabel label="To" hint="mayor, <rig>/witness, <rig>/refinery or <rig>/polecats/<name>">
        <input ref={to} class={`${input} font-mono`} name="to" list="mail-recipients" required value={props.to ?? ""} autocomplete="off" />
        <datalist id="mail-recipients">
          <For each={suggestions()}>{(s) => <option value={s} />}</For>
        </datalist>
      </FieldLabel>
      <FieldLabel label="Subject">
        <input ref={subject} class={input} name="subject" required maxLength={200} autocomplete="off" />
      </FieldLabel>
      <FieldLabel label="Message">
        <textarea ref={body} class={input} name="body" rows="4" />
      </FieldLabel>
    </FormDialog>
  );
}

export default function SendMail(props: { to?: string; label?: string; testid?: string }) {
  const [open, setOpen] = createSignal(false);
  return (
    <>
      <button class={btn} data-testid={props.testid ?? "send-mail"} onClick={() => setOpen(true)}>
        {props.label ?? "Send mail"}
      </button>
      <SendMailDialog open={open()} onClose={() => setOpen(false)} to={props.to} />
    </>
  );
}
