/** Placeholders in the shape of what is coming, while a view's code or its first sync arrives. */
import { For } from "solid-js";

export function ViewSkeleton(props: { what?: string }) {
  return (
    <div class="space-y-4" aria-busy="true" data-testid="view-skeleton">
      <span class="sr-only">Loading {props.what ?? "the view"}…</span>
      <div class="skeleton h-7 w-48" />
      <div class="grid gap-4 lg:grid-cols-3">
        <div class="grid gap-3 sm:grid-cols-2 lg:col-span-2">
          <For each={[0, 1, 2, 3]}>{() => <div class="skeleton h-44" />}</For>
        </div>
        <div class="space-y-4">
          <div class="skeleton h-32" />
          <div class="skeleton h-56" />
        </div>
      </div>
    </div>
  );
}
