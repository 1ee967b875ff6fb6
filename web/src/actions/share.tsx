/** Share: mints a read-only viewer link (gt_share) to exactly the view on screen. */
import { Show, createSignal } from "solid-js";
import { useLocation } from "@solidjs/router";
import type { ShareResult } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { absolute } from "../lib/time.ts";
import { FormDialog, FieldLabel, run } from "./dialog.tsx";
import { describe, townTool } from "./api.ts";

const TTLS = [
  { s: 3600, label: "1 hour" },
  { s: 24 * 3600, label: "1 day" },
  { s: 7 * 24 * 3600, label: "7 days" },
  { s: 30 * 24 * 3600, label: "30 days" },
];

export default function ShareButton() {
  const town = useTown();
  const location = useLocation();
  const [open, setOpen] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [ttl, setTtl] = createSignal(7 * 24 * 3600);
  const [link, setLink] = createSignal<{ url: string; expiresAt: number } | null>(null);
  const [copied, setCopied] = createSignal(false);
  const mint = async () => {
    const result = await run({ busy: setBusy, error: setError }, () => townTool<ShareResult>(town, "gt_share", { path: location.pathname.replace(/\/$/, ""), ttl_s: ttl() }), describe);
    if (result) setLink({ url: `${window.location.origin}${result.path}`, expiresAt: result.expiresAt });
  };
  return (
    <>
      <button
        class={btn}
        data-testid="share"
        onClick={() => {
          setLink(null);
          setCopied(false);
          setOpen(true);
        }}
      >
        Share
      </button>
      <FormDialog open={open()} title="Share a read-only link to this view" submit={link() ? "Make another" : "Create link"} busy={busy()} error={error()} onClose={() => setOpen(false)} onSubmit={mint} testid="share-dialog">
        <p class="text-sm text-zinc-500">
          Anyone with the link sees <span class="font-mono">{location.pathname}</span> live, with no controls, until it expires.
        </p>
        <FieldLabel label="Expires after">
          <select class={input} value={ttl()} onChange={(e) => setTtl(Number(e.currentTarget.value))}>
            {TTLS.map((t) => (
              <option value={t.s} selected={t.s === ttl()}>
                {t.label}
              </option>
            ))}
          </select>
        </FieldLabel>
        <Show when={link()}>
          {(l) => (
            <div class="space-y-1">
              <div class="flex gap-2">
                <input class={`${input} font-mono text-xs`} readOnly value={l().url} data-testid="share-url" onFocus={(e) => e.currentTarget.select()} />
                <button
                  type="button"
                  class={btn}
                  onClick={() =>
                    void navigator.clipboard?.writeText(l().url).then(
                      () => setCopied(true),
                      () => setError("Could not copy: select the link and copy it by hand."),
                    )
                  }
                >
                  {copied() ? "Copied" : "Copy"}
                </button>
              </div>
              <p class="text-xs text-zinc-500">Expires {absolute(l().expiresAt)}.</p>
            </div>
          )}
        </Show>
      </FormDialog>
    </>
  );
}
