import { For, Show, createSignal } from "solid-js";
import type { Mail } from "../../../party/protocol.ts";
import { Ago, Badge, Empty } from "../ui/kit.tsx";

/** Mail newest first; a row opens to show the body. */
export function MailTable(props: { mail: Mail[]; empty: string }) {
  return (
    <Show when={props.mail.length} fallback={<Empty title={props.empty} />}>
      <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70" data-testid="mail-list">
        <For each={props.mail}>{(mail) => <MailRow mail={mail} />}</For>
      </ul>
    </Show>
  );
}

function MailRow(props: { mail: Mail }) {
  const [open, setOpen] = createSignal(false);
  return (
    <li data-testid="mail-row" data-mail={props.mail.id}>
      <button
        class="grid w-full grid-cols-[1fr_auto] gap-x-3 px-4 py-2 text-left text-sm compact:py-1 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-blue-500 dark:hover:bg-zinc-800/40"
        aria-expanded={open()}
        onClick={() => setOpen(!open())}
      >
        <span class="min-w-0 truncate">
          <span class="font-mono text-xs text-zinc-500">{props.mail.from}</span>
          <span class="text-zinc-400"> → </span>
          <span class="font-mono text-xs text-zinc-500">{props.mail.to}</span>
        </span>
        <span class="flex items-center gap-2">
          <Badge kind="mail" status={props.mail.state} />
          <span class="text-xs text-zinc-500">
            <Ago at={props.mail.sentAt} />
          </span>
        </span>
        <span class="col-span-2 truncate font-medium" data-testid="mail-subject">
          {props.mail.subject}
        </span>
      </button>
      <Show when={open()}>
        <div class="px-4 pb-3 text-sm">
          <pre class="whitespace-pre-wrap break-words rounded-md bg-zinc-50 p-3 font-sans text-zinc-700 dark:bg-zinc-950 dark:text-zinc-300">
            {props.mail.body || "(no body)"}
          </pre>
          <Show when={props.mail.error}>
            <p class="mt-1 text-rose-600">{props.mail.error}</p>
          </Show>
        </div>
      </Show>
    </li>
  );
}
