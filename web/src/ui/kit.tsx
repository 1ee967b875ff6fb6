/** Small presentational pieces shared by every view. */
import { Show, type JSX, type ParentProps } from "solid-js";
import { BADGE, BAR, DOT, label, tone, type Tone } from "../lib/tone.ts";
import { absolute, now, relative, shortId } from "../lib/time.ts";
import type { Sync } from "../lib/live-doc.ts";

export function Badge(props: { kind: Parameters<typeof tone>[0]; status: string; testid?: string }) {
  return (
    <span
      class={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-md px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${BADGE[tone(props.kind, props.status)]}`}
      data-testid={props.testid}
      data-status={props.status}
    >
      <span class={`size-1.5 rounded-full ${DOT[tone(props.kind, props.status)]}`} />
      {label(props.status)}
    </span>
  );
}

export function Dot(props: { tone: Tone; pulse?: boolean }) {
  return (
    <span class="relative inline-flex size-2">
      <Show when={props.pulse}>
        <span class={`absolute inline-flex size-full animate-ping rounded-full opacity-60 ${DOT[props.tone]}`} />
      </Show>
      <span class={`relative inline-flex size-2 rounded-full ${DOT[props.tone]}`} />
    </span>
  );
}

/** A relative time that ticks, with the absolute time on hover. */
export function Ago(props: { at: number | null | undefined; fallback?: string }) {
  return (
    <Show when={props.at} fallback={<span class="text-zinc-400">{props.fallback ?? "never"}</span>}>
      {(at) => (
        <time datetime={new Date(at()).toISOString()} title={absolute(at())}>
          {relative(at(), now())}
        </time>
      )}
    </Show>
  );
}

/** Whether a panel's data is live, connecting, reconnecting (and stale since when) or refused. */
/** `terse`: on a phone, while live, the dot alone says it (the words stay for screen readers); any other state is spelled out. */
export function SyncBadge(props: { sync: Sync; label?: string; terse?: boolean }) {
  const status = () => props.sync.status();
  const text = () => {
    switch (status()) {
      case "live":
        return "Live";
      case "connecting":
        return "Connecting…";
      case "reconnecting":
        return "Reconnecting";
      case "closed":
        return "Disconnected";
    }
  };
  return (
    <span
      class={`inline-flex items-center gap-2 whitespace-nowrap rounded-full px-2 py-0.5 text-xs ring-1 ring-inset ${BADGE[tone("sync", status())]}`}
      data-testid="sync-status"
      data-status={status()}
      title={props.label ? `${props.label}: ${text()}` : text()}
    >
      <Dot tone={tone("sync", status())} pulse={status() === "live"} />
      <span class={props.terse && status() === "live" ? "max-sm:sr-only" : undefined}>{text()}</span>
      <Show when={status() !== "live" && props.sync.loaded() && props.sync.staleSince()}>
        {(since) => (
          <span class="opacity-80">
            · stale since <Ago at={since()} />
          </span>
        )}
      </Show>
    </span>
  );
}

export function Panel(props: ParentProps<{ title: JSX.Element; actions?: JSX.Element; class?: string; testid?: string }>) {
  return (
    <section class={`rounded-xl border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900/60 ${props.class ?? ""}`} data-testid={props.testid}>
      <header class="flex items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
        <h2 class="min-w-0 text-sm font-semibold text-zinc-700 [overflow-wrap:anywhere] dark:text-zinc-200">{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function Empty(props: ParentProps<{ title: string }>) {
  return (
    <div class="px-4 py-8 text-center text-sm text-zinc-500 dark:text-zinc-400" data-testid="empty">
      <p class="font-medium text-zinc-700 dark:text-zinc-300">{props.title}</p>
      <Show when={props.children}>
        <p class="mt-1">{props.children}</p>
      </Show>
    </div>
  );
}

/** Placeholder rows that say what they wait for, instead of an empty state that would lie. */
export function Loading(props: { what: string }) {
  return (
    <div class="space-y-2 px-4 py-4" aria-busy="true" data-testid="loading">
      <div class="skeleton h-4 w-3/4" />
      <div class="skeleton h-4 w-1/2" />
      <div class="skeleton h-4 w-2/3" />
      <p class="pt-1 text-center text-xs text-zinc-500 dark:text-zinc-400">Loading {props.what}…</p>
    </div>
  );
}

/** A stacked bar of counts; the segments always add up to the total shown next to it. */
export function StackBar(props: { parts: { tone: Tone; value: number; label: string }[]; class?: string }) {
  const total = () => props.parts.reduce((a, p) => a + p.value, 0);
  return (
    <div
      class={`flex h-1.5 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800 ${props.class ?? ""}`}
      role="img"
      aria-label={props.parts.map((p) => `${p.value} ${p.label}`).join(", ")}
    >
      {props.parts
        .filter((p) => p.value > 0)
        .map((p) => (
          <div class={BAR[p.tone]} style={{ width: `${(p.value / Math.max(1, total())) * 100}%` }} title={`${p.value} ${p.label}`} />
        ))}
    </div>
  );
}

export function Mono(props: ParentProps<{ class?: string; title?: string }>) {
  return (
    <span class={`font-mono text-[0.8em] ${props.class ?? ""}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function Crumbs(props: { items: { href?: string; label: JSX.Element }[] }) {
  return (
    <nav aria-label="Breadcrumb" class="flex min-w-0 items-center gap-1.5 text-sm text-zinc-500 dark:text-zinc-400">
      {props.items.map((item, i) => (
        <>
          <Show when={i > 0}>
            <span aria-hidden="true">/</span>
          </Show>
          <Show when={item.href} fallback={<span class="truncate font-medium text-zinc-900 dark:text-zinc-100">{item.label}</span>}>
            <a href={item.href} class="truncate hover:text-zinc-900 dark:hover:text-zinc-100">
              {item.label}
            </a>
          </Show>
        </>
      ))}
    </nav>
  );
}

export const btn =
  "inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium ring-1 ring-inset ring-zinc-300 bg-white text-zinc-800 hover:bg-zinc-50 disabled:opacity-50 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700 dark:hover:bg-zinc-800";
export const btnPrimary =
  "inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium bg-zinc-900 text-white hover:bg-zinc-700 disabled:opacity-50 dark:bg-zinc-100 dark:text-zinc-900 dark:hover:bg-white";
export const btnDanger =
  "inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium bg-rose-600 text-white hover:bg-rose-500 disabled:opacity-50";
export const input =
  "w-full rounded-md border-0 bg-white px-2.5 py-1.5 text-sm ring-1 ring-inset ring-zinc-300 placeholder:text-zinc-400 focus:ring-2 focus:ring-blue-500 dark:bg-zinc-950 dark:ring-zinc-700";

/** The bead an item is about, where there is one: its short id, linking to its page in the rig at `rigBase`. */
export function BeadChip(props: { rigBase: string; id: string | undefined }) {
  return (
    <Show when={props.id}>
      {(id) => (
        <a class="font-mono text-xs underline" href={`${props.rigBase}/beads/${id()}`}>
          {shortId(id())}
        </a>
      )}
    </Show>
  );
}
