/**
 * The frame of every town view: the town socket (one per open town), the header with the rig
 * selector, navigation, live status, share and theme, and the keyboard shortcuts.
 */
import { Show, createMemo, createSignal, lazy, type ParentProps } from "solid-js";
import { useLocation, useNavigate, useParams, useSearchParams } from "@solidjs/router";
import { readSession, type Session } from "../lib/session.ts";
import { TownProvider, createTownStore, useTown } from "../stores/town.tsx";
import { SyncBadge, btn } from "../ui/kit.tsx";
import { Message } from "./pages.tsx";
import { RigSelector } from "./rig-selector.tsx";
import { isDark, setTheme } from "../lib/theme.ts";
import { createShortcuts } from "../lib/keys.ts";

const ShareButton = lazy(() => import("../actions/share.tsx"));

export function TownShell(props: ParentProps) {
  const params = useParams<{ town: string }>();
  const [search] = useSearchParams<{ token?: string }>();
  // Re-read only when the town or the URL's token changes; navigation inside the town keeps it.
  const session = createMemo(() => readSession(params.town, typeof search.token === "string" ? search.token : undefined));
  return (
    <Show
      when={session()}
      keyed
      fallback={
        <Message title="This view needs a token">
          <p>
            Open it with the link an operator gave you (it ends in <code class="font-mono text-sm">?token=…</code>). Links you open from inside the dashboard
            keep it for this tab.
          </p>
        </Message>
      }
    >
      {(s) => (
        <Show
          when={!s.exp || s.exp > Date.now()}
          fallback={
            <Message title="This link has expired">
              <p>Ask an operator for a fresh link.</p>
            </Message>
          }
        >
          <Town town={params.town} session={s}>
            {props.children}
          </Town>
        </Show>
      )}
    </Show>
  );
}

function Town(props: ParentProps<{ town: string; session: Session }>) {
  const store = createTownStore(props.town, props.session);
  return (
    <TownProvider store={store}>
      <Header />
      <Show when={!store.sync.refusal()} fallback={<Message title="Cannot open this town">{store.sync.refusal()}</Message>}>
        <main class="mx-auto w-full max-w-7xl px-3 pb-16 pt-4 sm:px-6">{props.children}</main>
      </Show>
      <Shortcuts />
    </TownProvider>
  );
}

function Header() {
  const town = useTown();
  const location = useLocation();
  const base = `/t/${town.town}`;
  const [dark, setDark] = createSignal(isDark());
  const navClass = (active: boolean) =>
    `rounded-md px-2 py-1 text-sm ${active ? "bg-zinc-200/70 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"}`;
  return (
    <header class="sticky top-0 z-20 border-b border-zinc-200 bg-zinc-50/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
      <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-2 px-3 py-2 sm:px-6">
        <a href={base} class="flex items-center gap-2 font-semibold" title="Town overview (g o)">
          <span class="grid size-6 place-items-center rounded-md bg-zinc-900 text-xs text-white dark:bg-zinc-100 dark:text-zinc-900">T</span>
          <span class="font-mono text-sm" data-testid="town-name">
            {town.town}
          </span>
        </a>
        <nav class="flex items-center gap-1" aria-label="Town">
          <a href={base} class={navClass(location.pathname === base || location.pathname === `${base}/`)} aria-current={location.pathname === base ? "page" : undefined}>
            Overview
          </a>
          <a href={`${base}/mail`} class={navClass(location.pathname === `${base}/mail`)}>
            Mail
          </a>
        </nav>
        <RigSelector />
        <div class="ml-auto flex items-center gap-2">
          <SyncBadge sync={town.sync} label="Town" />
          <Show
            when={town.isOperator}
            fallback={
              <span class="rounded-full bg-zinc-200 px-2 py-0.5 text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300" data-testid="read-only">
                Read-only
              </span>
            }
          >
            <ShareButton />
          </Show>
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

function Shortcuts() {
  const town = useTown();
  const navigate = useNavigate();
  const [help, setHelp] = createSignal(false);
  createShortcuts({
    "g o": () => navigate(`/t/${town.town}`),
    "g m": () => navigate(`/t/${town.town}/mail`),
    "/": () => (document.querySelector("[data-testid=rig-selector]") as HTMLElement | null)?.focus(),
    t: () => document.querySelector<HTMLButtonElement>("[data-testid=theme-toggle]")?.click(),
    "?": () => setHelp(!help()),
    Escape: () => setHelp(false),
  });
  return (
    <Show when={help()}>
      <div class="fixed bottom-4 right-4 z-30 w-64 rounded-xl border border-zinc-200 bg-white p-4 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-900" role="dialog" aria-label="Keyboard shortcuts">
        <p class="mb-2 font-semibold">Keyboard</p>
        <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-zinc-600 dark:text-zinc-300">
          {[
            ["g o", "overview"],
            ["g m", "town mail"],
            ["/", "pick a rig"],
            ["t", "theme"],
            ["Tab", "move between items"],
            ["?", "this help"],
          ].map(([k, v]) => (
            <>
              <dt>
                <kbd class="rounded bg-zinc-100 px-1 font-mono text-xs dark:bg-zinc-800">{k}</kbd>
              </dt>
              <dd>{v}</dd>
            </>
          ))}
        </dl>
      </div>
    </Show>
  );
}
