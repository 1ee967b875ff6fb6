/**
 * Webhooks: the town's outgoing webhooks, for town-wide operators (gt_webhook_add / list / remove /
 * test). Adding one shows its signing secret once (the town never shows it again); each hook says
 * how its last delivery went, as the town recorded it: none yet, ok, failing (the error and when),
 * or off. The status is read again every few seconds while the panel is open (it changes with each
 * attempt, which no document carries: it holds no secret and no URL).
 */
import { For, Show, createSignal, onCleanup } from "solid-js";
import type { Webhook, WebhookAddResult, WebhookTestResult } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { absolute } from "../lib/time.ts";
import { FormDialog, FieldLabel, run } from "./dialog.tsx";
import { CopyField } from "./fields.tsx";
import { describe, townTool } from "./api.ts";

const EVENTS = "bead failed, escalation opened, agent hung, convoy landed, budget reached, rig in error";

/** One hook's status in words, true to what the town recorded. */
export function hookStatus(hook: Webhook): { text: string; tone: "ok" | "bad" | "none" } {
  if (hook.disabledAt) return { text: `Off since ${absolute(hook.disabledAt)}: ${hook.disabledWhy ?? "its receiver answered 410 Gone"}`, tone: "bad" };
  if (!hook.last) return { text: hook.pending ? "Sending its first delivery…" : "No delivery yet", tone: "none" };
  if (hook.last.ok) return { text: `Last delivery ok, ${absolute(hook.last.at)}`, tone: "ok" };
  const lastOk = hook.lastOkAt ? `; last ok ${absolute(hook.lastOkAt)}` : "; none delivered yet";
  return { text: `Failing: ${hook.last.error ?? "error"} at ${absolute(hook.last.at)} (attempt ${hook.last.attempts}${lastOk})`, tone: "bad" };
}

/** `class`: how the opening button looks where it sits (the header's views). */
export default function WebhooksButton(props: { class?: string }) {
  const town = useTown();
  const [open, setOpen] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [url, setUrl] = createSignal("");
  const [format, setFormat] = createSignal<"slack" | "json">("slack");
  const [added, setAdded] = createSignal<WebhookAddResult | null>(null);
  const [hooks, setHooks] = createSignal<Webhook[] | null>(null);
  const [removing, setRemoving] = createSignal<string | null>(null);
  const [tested, setTested] = createSignal<Record<string, string>>({});
  let timer: ReturnType<typeof setInterval> | undefined;
  // The list's own error: a refresh must not clear (or replace) the error of what the operator just did.
  const [listError, setListError] = createSignal<string | null>(null);
  const refresh = async () => {
    const list = await run({ busy: () => {}, error: setListError }, () => townTool<Webhook[]>(town, "gt_webhook_list", {}), describe);
    if (list) setHooks(list);
  };
  const show = () => {
    setAdded(null);
    setError(null);
    setRemoving(null);
    setOpen(true);
    void refresh();
    clearInterval(timer);
    timer = setInterval(() => void refresh(), 2_000);
  };
  const hide = () => {
    clearInterval(timer);
    setAdded(null); // the secret is shown once: closing the panel forgets it
    setOpen(false);
  };
  onCleanup(() => clearInterval(timer));
  const add = async () => {
    const result = await run(
      { busy: setBusy, error: setError },
      () => townTool<WebhookAddResult>(town, "gt_webhook_add", { url: url(), format: format() }),
      describe,
    );
    if (result) {
      setAdded(result);
      setUrl("");
    }
    await refresh();
  };
  const test = async (id: string) => {
    const result = await run({ busy: setBusy, error: setError }, () => townTool<WebhookTestResult>(town, "gt_webhook_test", { id }), describe);
    if (result) setTested({ ...tested(), [id]: result.id });
    await refresh();
  };
  const remove = async (id: string) => {
    if (await run({ busy: setBusy, error: setError }, () => townTool(town, "gt_webhook_remove", { id }), describe)) setRemoving(null);
    await refresh();
  };
  return (
    <>
      <button class={props.class ?? btn} data-testid="webhooks" aria-label="Webhooks" title="Webhooks of this town" onClick={show}>
        {/* "Hooks" on a phone, where the views share one row with the rig picker. */}
        <span class="max-sm:hidden">Webhooks</span>
        <span class="sm:hidden">Hooks</span>
      </button>
      <FormDialog
        open={open()}
        title="Webhooks of this town"
        submit="Add webhook"
        busy={busy()}
        error={error()}
        onClose={hide}
        onSubmit={add}
        // A panel of the town's hooks as much as a form: leaving it cancels nothing.
        cancel="Close"
        testid="webhooks-dialog"
      >
        <p class="text-sm text-zinc-500">
          Each webhook gets a signed POST when something needs you: {EVENTS}. The same events as the attention lane; a failed delivery is tried again for a day.
        </p>
        <FieldLabel label="URL" hint="http:// or https://; with Slack format, a Slack incoming webhook's URL works as it is">
          <input
            class={`${input} font-mono text-xs`}
            type="url"
            required
            placeholder="https://hooks.example.com/townhall"
            value={url()}
            onInput={(e) => setUrl(e.currentTarget.value)}
            data-testid="webhook-url"
          />
        </FieldLabel>
        <FieldLabel label="Body">
          <select class={input} value={format()} onChange={(e) => setFormat(e.currentTarget.value as "slack" | "json")} data-testid="webhook-format">
            <option value="slack">Slack-compatible ({"{text, blocks}"})</option>
            <option value="json">Plain JSON payload</option>
          </select>
        </FieldLabel>
        <Show when={added()}>
          {(a) => (
            <div class="space-y-1 rounded-md bg-amber-500/10 p-2" data-testid="webhook-secret-box">
              <p class="text-sm font-medium">Signing secret of {a().url}: copy it now, it is not shown again.</p>
              <CopyField value={a().secret} what="secret" testid="webhook-secret" onError={setError} />
              <p class="text-xs text-zinc-500">
                Each delivery's <span class="font-mono">X-Townhall-Signature</span> is <span class="font-mono">sha256=</span> HMAC-SHA256 of{" "}
                <span class="font-mono">{"<X-Townhall-Timestamp>.<body>"}</span> under this secret.
              </p>
            </div>
          )}
        </Show>
        <div class="border-t border-zinc-200 pt-3 dark:border-zinc-700">
          <h3 class="mb-1 text-sm font-medium">Webhooks</h3>
          <Show when={listError()}>
            <p class="text-xs text-rose-700 dark:text-rose-300" data-testid="webhooks-list-error">
              Could not read the webhooks{hooks() ? " (the list below may be out of date)" : ""}: {listError()}
            </p>
          </Show>
          <Show when={hooks()} fallback={<p class="text-xs text-zinc-500">{listError() ? "" : "Loading webhooks…"}</p>}>
            {(list) => (
              <Show
                when={list().length}
                fallback={
                  <p class="text-xs text-zinc-500" data-testid="webhooks-empty">
                    No webhooks yet: nothing is sent anywhere.
                  </p>
                }
              >
                <ul class="max-h-64 space-y-2 overflow-y-auto text-xs" data-testid="webhook-list">
                  <For each={list()}>
                    {(hook) => {
                      const status = () => hookStatus(hook);
                      return (
                        <li class="space-y-1 rounded-md border border-zinc-200 p-2 dark:border-zinc-700" data-testid="webhook" data-hook={hook.id}>
                          <div class="flex items-center gap-2">
                            <span class="min-w-0 flex-1 truncate font-mono" title={hook.url}>
                              {hook.url}
                            </span>
                            <span class="shrink-0 text-zinc-500">{hook.format === "slack" ? "Slack" : "JSON"}</span>
                          </div>
                          <p
                            data-testid="webhook-status"
                            data-tone={status().tone}
                            class={
                              status().tone === "bad"
                                ? "text-rose-700 dark:text-rose-300"
                                : status().tone === "ok"
                                  ? "text-emerald-700 dark:text-emerald-300"
                                  : "text-zinc-500"
                            }
                          >
                            {status().text}
                            {hook.pending ? ` · ${hook.pending} waiting` : ""}
                            {hook.dropped ? ` · ${hook.dropped} dropped` : ""}
                          </p>
                          <Show when={tested()[hook.id]}>
                            {(id) => (
                              <p class="text-zinc-500" data-testid="webhook-tested">
                                Test delivery <span class="font-mono">{id()}</span>{" "}
                                {hook.last?.id === id() ? (hook.last.ok ? "delivered." : "failed; it is tried again.") : "queued…"}
                              </p>
                            )}
                          </Show>
                          <div class="flex justify-end gap-2">
                            <Show
                              when={removing() === hook.id}
                              fallback={
                                <>
                                  <Show when={!hook.disabledAt}>
                                    <button type="button" class={`${btn} px-2 py-0.5 text-xs`} data-testid="webhook-test" onClick={() => void test(hook.id)}>
                                      Send test
                                    </button>
                                  </Show>
                                  <button type="button" class={`${btn} px-2 py-0.5 text-xs`} data-testid="webhook-remove" onClick={() => setRemoving(hook.id)}>
                                    Remove…
                                  </button>
                                </>
                              }
                            >
                              <span class="self-center text-zinc-500">Remove it? Deliveries still waiting are dropped.</span>
                              <button type="button" class={`${btn} px-2 py-0.5 text-xs`} onClick={() => setRemoving(null)}>
                                Keep it
                              </button>
                              <button
                                type="button"
                                class={`${btn.replace("text-zinc-800", "text-rose-700")} px-2 py-0.5 text-xs`}
                                data-testid="webhook-remove-confirm"
                                onClick={() => void remove(hook.id)}
                              >
                                Remove webhook
                              </button>
                            </Show>
                          </div>
                        </li>
                      );
                    }}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </div>
      </FormDialog>
    </>
  );
}
