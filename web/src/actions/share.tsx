/**
 * Share: mints a read-only viewer link (gt_share) to exactly the view on screen, which opens that
 * view and nothing else; lists this town's links (gt_share_list) and revokes them (gt_share_revoke),
 * which closes their open pages at once.
 */
import { For, Show, createSignal } from "solid-js";
import { useLocation } from "@solidjs/router";
import type { ShareLink, ShareResult } from "../../../party/protocol.ts";
import { LIMITS, MAX_TOKEN_LIFETIME_S } from "../../../party/protocol/limits.ts";
import { linkShows } from "../lib/reach.ts";
import { useTown } from "../stores/town.tsx";
import { btn, input } from "../ui/kit.tsx";
import { absolute } from "../lib/time.ts";
import { FormDialog, FieldLabel, run } from "./dialog.tsx";
import { CopyField } from "./fields.tsx";
import { ActionDialog } from "./action-dialog.tsx";
import { describe, townTool } from "./api.ts";

const TTLS = [
  { s: 3600, label: "1 hour" },
  { s: 24 * 3600, label: "1 day" },
  { s: 7 * 24 * 3600, label: "7 days" },
  { s: MAX_TOKEN_LIFETIME_S, label: `${MAX_TOKEN_LIFETIME_S / 86_400} days` },
];

export default function ShareButton() {
  const town = useTown();
  const location = useLocation();
  const [open, setOpen] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [ttl, setTtl] = createSignal(7 * 24 * 3600);
  const [link, setLink] = createSignal<{ url: string; expiresAt: number } | null>(null);
  const [links, setLinks] = createSignal<ShareLink[] | null>(null);
  const refresh = async () => {
    const list = await run({ busy: () => {}, error: setError }, () => townTool<ShareLink[]>(town, "gt_share_list", {}), describe);
    if (list) setLinks(list);
  };
  const mint = async () => {
    const result = await run(
      { busy: setBusy, error: setError },
      () => townTool<ShareResult>(town, "gt_share", { path: location.pathname.replace(/\/$/, ""), ttl_s: ttl() }),
      describe,
    );
    if (result) setLink({ url: `${window.location.origin}${result.path}`, expiresAt: result.expiresAt });
    await refresh();
  };
  // The link a revoke waits to be confirmed for, in the app's own dialog (never the browser's box).
  const [revoking, setRevoking] = createSignal<ShareLink | null>(null);
  const revoke = async (id: string) => {
    await townTool<ShareLink>(town, "gt_share_revoke", { id });
    await refresh();
  };
  return (
    <>
      <button
        class={btn}
        data-testid="share"
        onClick={() => {
          setLink(null);
          setError(null); // an earlier opening's error is not this one's
          setOpen(true);
          void refresh();
        }}
      >
        Share
      </button>
      <FormDialog
        open={open()}
        title="Share a read-only link to this view"
        submit={link() ? "Make another" : "Create link"}
        busy={busy()}
        error={error()}
        onClose={() => setOpen(false)}
        onSubmit={mint}
        testid="share-dialog"
        cancel="Close"
      >
        <p class="text-sm text-zinc-500">
          Anyone with the link sees <span class="font-mono">{location.pathname}</span> live, with no controls, until it expires.
        </p>
        <p class="text-sm text-zinc-600 dark:text-zinc-300" data-testid="share-shows">
          It shows {linkShows(location.pathname)}
        </p>
        <p class="text-sm text-zinc-500" data-testid="share-cap">
          Up to {LIMITS.socketsPerLink} pages can be open on one link at once ({LIMITS.socketsPerLink / 2} on an agent or on the town's mail), so a team can
          share it.
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
              <CopyField value={l().url} what="link" testid="share-url" onError={setError} />
              <p class="text-xs text-zinc-500">Expires {absolute(l().expiresAt)}.</p>
            </div>
          )}
        </Show>
        <Show when={links()?.length}>
          <div class="border-t border-zinc-200 pt-3 dark:border-zinc-700">
            <h3 class="mb-1 text-sm font-medium">Links of this town</h3>
            <ul class="max-h-48 space-y-1 overflow-y-auto text-xs" data-testid="share-links">
              <For each={links()!}>
                {(l) => (
                  <li class="flex items-center gap-2" data-testid="share-link" data-link={l.id}>
                    <span class="min-w-0 flex-1 truncate font-mono" title={l.path}>
                      {l.path}
                    </span>
                    <span class="shrink-0 text-zinc-500">{l.revokedAt ? "revoked" : `until ${absolute(l.expiresAt)}`}</span>
                    <Show when={!l.revokedAt}>
                      <button type="button" class={`${btn} px-2 py-0.5 text-xs`} data-testid="share-revoke" onClick={() => setRevoking(l)}>
                        Revoke
                      </button>
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          </div>
        </Show>
      </FormDialog>
      {/* A sibling of the Share dialog, not inside its form: it opens above it, and its submit is its own. */}
      <ActionDialog
        open={revoking() !== null}
        title="Revoke this link?"
        submit="Revoke link"
        danger
        testid="confirm-revoke"
        onClose={() => setRevoking(null)}
        act={() => revoke(revoking()!.id)}
      >
        <p class="text-sm text-zinc-600 dark:text-zinc-300">
          Pages open on <span class="break-all font-mono">{revoking()?.path}</span> close at once, and the link opens nothing any more.
        </p>
      </ActionDialog>
    </>
  );
}
