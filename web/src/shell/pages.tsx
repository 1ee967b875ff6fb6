/** Whole-page messages: no town, no such page, no token, an expired link. */
import type { ParentProps } from "solid-js";
import { setTitle } from "../lib/title.ts";

/** `page`: the tab title's parts ("signed out", town). */
export function Message(props: ParentProps<{ title: string; page?: string[] }>) {
  setTitle(...(props.page ?? [props.title.toLowerCase()]));
  return (
    <main class="mx-auto max-w-xl px-6 py-16">
      <p class="text-sm font-semibold tracking-wide text-zinc-500">Townhall</p>
      <h1 class="mt-2 text-2xl font-semibold">{props.title}</h1>
      <div class="mt-4 space-y-3 text-zinc-600 dark:text-zinc-300">{props.children}</div>
    </main>
  );
}

export function NoTown() {
  return (
    <Message title="Open a town">
      <p>
        Dashboards live at <code class="rounded bg-zinc-200 px-1 font-mono text-sm dark:bg-zinc-800">/t/&lt;town&gt;?token=&lt;token&gt;</code>.{" "}
        <code class="font-mono text-sm">npm start</code> prints such a link, and an operator can share one from any view.
      </p>
    </Message>
  );
}

export function NotFound() {
  return (
    <Message title="Nothing here">
      <p>This address is not a Townhall view. Check the link, or go back.</p>
    </Message>
  );
}
