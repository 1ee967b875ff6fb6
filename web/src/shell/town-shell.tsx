/**
 * The frame of every town view: the session (lib/session.ts), the town socket (one per open town),
 * the header with the rig selector, navigation, live status, who you are, share, density and theme,
 * the tab's title, and the keyboard shortcuts.
 */
import { Show, Suspense, createEffect, createMemo, createSignal, lazy, onCleanup, type ParentProps } from "solid-js";
import { useLocation, useParams, useSearchParams } from "@solidjs/router";
import { adoptToken, browserTokenKey, forgetSession, readSession, type Session } from "../lib/session.ts";
import { createTownStore, useTown } from "../stores/town.tsx";
import { TownAndLaneProvider } from "../stores/lane.tsx";
import { LaneSignals } from "./lane-signals.tsx";
import { SyncBadge, btn } from "../ui/kit.tsx";
import { Message } from "./pages.tsx";
import { RigSelector } from "./rig-selector.tsx";
import { readsTownMail } from "../lib/reach.ts";
import { Identity } from "./identity.tsx";
import { Shortcuts } from "./shortcuts.tsx";
import { ViewSkeleton } from "./skeleton.tsx";
import { isDark, setTheme } from "../lib/theme.ts";
import { compact, setCompact } from "../lib/density.ts";
import { absolute, now, shortId } from "../lib/time.ts";
import { setTitle } from "../lib/title.ts";

const ShareButton = lazy(() => import("../actions/share.tsx"));
const WebhooksButton = lazy(() => import("../actions/webhooks.tsx"));

const sameSession = (a: Session | null, b: Session | null) => a?.token === b?.token && a?.town === b?.town && a?.kept === b?.kept;

export function TownShell(props: ParentProps) {
  const params = useParams<{ town: string }>();
  const [search, setSearch] = useSearchParams<{ token?: string }>();
  // Bumped when this tab signs out or another tab changes the browser's token for this town.
  const [version, setVersion] = createSignal(0);
  const [signedOut, setSignedOut] = createSignal(false);
  // main.tsx takes a token out of the first address; one that arrives by in-app navigation is
  // kept the same way here, then removed from the address.
  const session = createMemo(
    () => {
      version();
      const urlToken = typeof search.token === "string" ? search.token : "";
      if (urlToken) adoptToken(params.town, urlToken);
      return readSession(params.town);
    },
    null,
    { equals: sameSession },
  );
  createEffect(() => {
    if (search.token !== undefined) setSearch({ token: undefined }, { replace: true });
  });
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key === browserTokenKey(params.town)) setVersion((v) => v + 1);
  };
  window.addEventListener("storage", onStorage);
  onCleanup(() => window.removeEventListener("storage", onStorage));
  const signOut = (s: Session) => {
    forgetSession(s);
    setSignedOut(true);
    setVersion((v) => v + 1);
  };
  const expired = (s: Session) => s.exp !== null && s.exp <= now();
  return (
    <Show
      when={session()}
      keyed
      fallback={
        <Show
          when={signedOut()}
          fallback={
            <Message title="This view needs a token" page={["sign in", params.town]}>
              <p>
                Open it with the link an operator gave you (it ends in <code class="font-mono text-sm">?token=…</code>). An operator's link keeps you signed in
                to this town in this browser; a shared link works in the tab it was opened in.
              </p>
            </Message>
          }
        >
          <Message title="Signed out" page={["signed out", params.town]}>
            <p data-testid="signed-out">This browser no longer keeps a token for {params.town}. Open an operator link to sign in again.</p>
          </Message>
        </Show>
      }
    >
      {(s) => (
        <Show when={!expired(s)} fallback={<Expired session={s} onForget={() => signOut(s)} />}>
          <Town town={params.town} session={s} onSignOut={() => signOut(s)}>
            {props.children}
          </Town>
        </Show>
      )}
    </Show>
  );
}

/** A kept token that has expired: say which, and what to do. */
function Expired(props: { session: Session; onForget: () => void }) {
  const stored = props.session.kept === "browser";
  return (
    <Message title={stored ? "Your sign-in has expired" : "This link has expired"} page={["expired", props.session.town]}>
      <p data-testid="expired">
        {stored ? `The operator token this browser kept for ${props.session.town} expired` : "The link this tab was opened with expired"}
        {props.session.exp ? ` on ${absolute(props.session.exp)}` : ""}.{" "}
        {stored ? "Open a fresh operator link (npm start prints one)." : "Ask an operator for a fresh link."}
      </p>
      <button class={btn} data-testid="sign-out" onClick={() => props.onForget()}>
        Forget it
      </button>
    </Message>
  );
}

function Town(props: ParentProps<{ town: string; session: Session; onSignOut: () => void }>) {
  const store = createTownStore(props.town, props.session);
  const [help, setHelp] = createSignal(false);
  return (
    <TownAndLaneProvider store={store}>
      <Header onSignOut={props.onSignOut} onHelp={() => setHelp(!help())} />
      <TownTitle />
      <LaneSignals />
      <Show
        when={!store.sync.refusal()}
        fallback={
          <Message title="Cannot open this town" page={["refused", props.town]}>
            <p>{store.sync.refusal()}</p>
            <button class={btn} data-testid="sign-out" onClick={() => props.onSignOut()}>
              {props.session.kept === "browser" ? "Sign out" : "Leave this link"}
            </button>
          </Message>
        }
      >
        <main class="mx-auto w-full min-w-0 max-w-7xl px-3 pb-16 pt-4 sm:px-6">
          <Suspense fallback={<ViewSkeleton />}>{props.children}</Suspense>
        </main>
      </Show>
      <Shortcuts open={help} setOpen={setHelp} />
    </TownAndLaneProvider>
  );
}

/** The tab's title for the town's own views; rig views name themselves (rig-shell.tsx). */
function TownTitle() {
  const town = useTown();
  const params = useParams<{ rig?: string; convoy?: string }>();
  const location = useLocation();
  createEffect(() => {
    if (params.rig) return;
    const path = location.pathname.slice(`/t/${town.town}`.length).replace(/\/$/, "");
    if (params.convoy) setTitle(`convoy ${town.convoys[params.convoy]?.title ?? shortId(params.convoy)}`, town.town);
    else if (path === "") setTitle("overview", town.town);
    else if (path === "/mail") setTitle("mail", town.town);
    else setTitle("nothing here", town.town);
  });
  return null;
}

function Header(props: { onSignOut: () => void; onHelp: () => void }) {
  const town = useTown();
  const location = useLocation();
  const base = `/t/${town.town}`;
  const [dark, setDark] = createSignal(isDark());
  const navClass = (active: boolean) =>
    `rounded-md px-1.5 py-1 text-sm sm:px-2 ${active ? "bg-zinc-200/70 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"}`;
  return (
    <header class="sticky top-0 z-20 border-b border-zinc-200 bg-zinc-50/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85" data-testid="town-header">
      {/* On a phone, two rows of 28 px controls (every control kept): the town and its controls, then
          the views and the rig picker. From sm up, one row that wraps as it needs. */}
      <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-1.5 gap-y-0.5 px-3 py-0.5 sm:gap-x-3 sm:gap-y-2 sm:px-6 sm:py-2">
        <a href={base} class="flex min-w-0 flex-1 items-center gap-1.5 font-semibold sm:flex-none sm:gap-2" title="Town overview (g o)">
          <span class="grid size-6 shrink-0 place-items-center rounded-md bg-zinc-900 text-xs text-white dark:bg-zinc-100 dark:text-zinc-900">T</span>
          <span class="truncate font-mono text-sm" data-testid="town-name">
            {town.town}
          </span>
        </a>
        <div class="order-last flex w-full min-w-0 items-center gap-1 sm:order-none sm:w-auto sm:gap-3 max-sm:[&_select]:h-7 max-sm:[&_select]:py-0 max-sm:[&>label]:min-w-28 max-sm:[&>label]:max-w-[50%]">
          <nav class="flex min-w-0 items-center gap-0.5 overflow-x-auto sm:shrink-0 sm:gap-1 sm:overflow-visible" aria-label="Town">
            <Show when={town.reach.kind === "town" || (town.reach.kind === "scope" && !town.reach.convoy)}>
              <a
                href={base}
                class={navClass(location.pathname === base || location.pathname === `${base}/`)}
                aria-current={location.pathname === base ? "page" : undefined}
              >
                Overview
              </a>
            </Show>
            <Show when={readsTownMail(town.session)}>
              <a href={`${base}/mail`} class={navClass(location.pathname === `${base}/mail`)}>
                Mail
              </a>
            </Show>
            <Show when={town.isOperator}>
              <a href={`${base}/audit`} class={navClass(location.pathname === `${base}/audit`)} data-testid="nav-audit">
                Audit
              </a>
            </Show>
            {/* Webhooks are the town's: only a town-wide operator may see or change them. With the views,
                so the phone's first row of controls still fits 360 px. */}
            <Show when={town.isOperator && town.session.rig === null}>
              <WebhooksButton class={navClass(false)} />
            </Show>
          </nav>
          {/* A convoy link reads no rig: no rig to pick. On a phone the picker keeps a readable width
              and at most half the row (a rig page names its rig at length); the views before it scroll
              sideways in their row if they must. */}
          <Show when={!(town.reach.kind === "scope" && town.reach.convoy)}>
            <RigSelector />
          </Show>
        </div>
        <div class="flex shrink-0 items-center justify-end gap-1 sm:ml-auto sm:flex-wrap sm:gap-2 max-sm:[&>button]:h-7 max-sm:[&>button]:px-2 max-sm:[&>button]:py-0 max-sm:[&>div>button]:h-7 max-sm:[&>div>button]:px-2 max-sm:[&>div>button]:py-0">
          <SyncBadge sync={town.sync} label={town.reach.kind === "town" ? "Town" : town.reach.kind === "rig" ? "Rig" : "Scope"} terse />
          <Show when={town.isOperator}>
            <ShareButton />
          </Show>
          <Identity onSignOut={props.onSignOut} />
          <button class={btn} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" data-testid="shortcuts-hint" onClick={() => props.onHelp()}>
            <kbd class="font-mono text-xs">?</kbd>
          </button>
          <button
            class={btn}
            aria-label="Compact rows"
            aria-pressed={compact()}
            title={compact() ? "Compact rows: on (click for roomier rows)" : "Compact rows: off (click for denser rows, for large towns)"}
            data-testid="density-toggle"
            onClick={() => setCompact(!compact())}
          >
            <span aria-hidden="true">{compact() ? "☰" : "≡"}</span>
          </button>
          <button
            class={btn}
            aria-label={dark() ? "Switch to light theme" : "Switch to dark theme"}
            title="Toggle theme (t)"
            data-testid="theme-toggle"
            onClick={() => {
              setTheme(!dark());
              setDark(!dark());
            }}
          >
            {dark() ? "☀" : "☾"}
          </button>
        </div>
      </div>
    </header>
  );
}
