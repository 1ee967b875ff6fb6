/**
 * Who you are, in the header: your role (or the view a read-only link shows), when the token
 * expires, where it is kept, and signing out (forgetting it).
 */
import { Show, createSignal, onCleanup } from "solid-js";
import type { LinkView, Session } from "../lib/session.ts";
import { absolute, now, shortId, until } from "../lib/time.ts";
import { useTown, type TownStore } from "../stores/town.tsx";
import { btn } from "../ui/kit.tsx";

/** What a link shows, in words: "rig backend", "bead 1a2b3c4d in backend", "the overview". */
export function describeView(view: LinkView, town: TownStore): string {
  const rigName = (id: string) => town.rigs[id]?.name ?? "a removed rig";
  switch (view.kind) {
    case "town":
      return "the overview";
    case "rig":
      return `rig ${rigName(view.rig)}`;
    case "bead":
      return `bead ${shortId(view.bead)} in ${rigName(view.rig)}`;
    case "agent":
      return `agent ${view.agent} in ${rigName(view.rig)}`;
    case "convoy":
      return `convoy ${town.convoys[view.convoy]?.title ?? shortId(view.convoy)}`;
    case "mail":
      return "town mail";
    default:
      return assertNever(view);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled link view ${JSON.stringify(value)}`);
}

/** "Operator", "Read-only link", "Read-only": the role as the person acting on the page knows it. */
export function roleLabel(session: Session): string {
  if (session.role === "operator") return "Operator";
  if (session.view) return "Read-only link";
  return session.role === "viewer" || session.role === null ? "Read-only" : session.role;
}

export function Identity(props: { onSignOut: () => void }) {
  const town = useTown();
  const s = town.session;
  const [open, setOpen] = createSignal(false);
  let root!: HTMLDivElement;
  const onPointer = (e: PointerEvent) => {
    if (open() && !root.contains(e.target as Node)) setOpen(false);
  };
  const onKey = (e: KeyboardEvent) => {
    if (open() && e.key === "Escape") setOpen(false);
  };
  document.addEventListener("pointerdown", onPointer);
  document.addEventListener("keydown", onKey);
  onCleanup(() => {
    document.removeEventListener("pointerdown", onPointer);
    document.removeEventListener("keydown", onKey);
  });
  const scope = () => (s.view ? `link to ${describeView(s.view, town)}` : s.rig ? `rig ${town.rigs[s.rig]?.name ?? shortId(s.rig)}` : null);
  const isOperator = s.role === "operator";
  return (
    <div class="relative" ref={root}>
      <button
        class={`${btn} max-w-56 py-1 text-xs`}
        aria-expanded={open()}
        aria-haspopup="true"
        data-testid="whoami"
        data-role={s.role ?? "unknown"}
        title={s.exp ? `Signed in until ${absolute(s.exp)}` : undefined}
        onClick={() => setOpen(!open())}
      >
        <Show
          when={isOperator}
          fallback={
            <span class="font-medium" data-testid="read-only">
              {roleLabel(s)}
            </span>
          }
        >
          <span class="font-medium">{roleLabel(s)}</span>
        </Show>
        <Show when={scope()}>
          {(text) => (
            <span class="hidden min-w-0 truncate font-normal text-zinc-500 sm:inline" data-testid="whoami-scope">
              · {text()}
            </span>
          )}
        </Show>
        <span aria-hidden="true" class="text-zinc-400">
          ▾
        </span>
      </button>
      <Show when={open()}>
        <div
          class="absolute right-0 top-full z-30 mt-2 w-72 max-w-[calc(100vw-1.5rem)] space-y-2 rounded-xl border border-zinc-200 bg-white p-4 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
          data-testid="whoami-panel"
          role="dialog"
          aria-label="Who you are"
        >
          <p>
            <span class="font-semibold">{roleLabel(s)}</span> <span data-testid="whoami-what">{scope() ?? `of town ${town.town}`}</span>
          </p>
          <p class="text-zinc-600 dark:text-zinc-300" data-testid="session-expiry">
            <Show when={s.exp} fallback="The token does not say when it expires.">
              {(exp) => (
                <>
                  Expires {until(exp(), now())} <span class="text-zinc-500">({absolute(exp())})</span>.
                </>
              )}
            </Show>
          </p>
          <p class="text-xs text-zinc-500" data-testid="session-kept">
            {s.kept === "browser"
              ? `Kept in this browser for ${town.town}: new tabs open signed in. Sign out on a shared computer.`
              : "Kept in this tab only: closing the tab forgets it, and no token this browser keeps is replaced."}
          </p>
          <button
            class={`${btn} w-full justify-center`}
            data-testid="sign-out"
            onClick={() => {
              setOpen(false);
              props.onSignOut();
            }}
          >
            {s.kept === "browser" ? "Sign out" : "Leave this link"}
          </button>
        </div>
      </Show>
    </div>
  );
}
