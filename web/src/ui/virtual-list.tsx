/**
 * A virtualised list of fixed-height rows: only the rows in view (plus a few) are in the DOM, so a
 * column of 10k beads scrolls as smoothly as one of ten.
 */
import { For, createEffect, on, type JSX } from "solid-js";
import { createVirtualizer } from "@tanstack/solid-virtual";

export function VirtualList<T>(props: {
  items: T[];
  rowHeight: number;
  maxHeight: string;
  class?: string;
  children: (item: T) => JSX.Element;
  testid?: string;
  label?: string;
}) {
  let scroller!: HTMLDivElement;
  const virtualizer = createVirtualizer({
    get count() {
      return props.items.length;
    },
    getScrollElement: () => scroller,
    estimateSize: () => props.rowHeight,
    overscan: 8,
  });
  // Rows change height with the density (compact rows): measure them again.
  createEffect(
    on(
      () => props.rowHeight,
      () => virtualizer.measure(),
      { defer: true },
    ),
  );
  return (
    <div
      ref={scroller}
      class={`overflow-y-auto overscroll-contain ${props.class ?? ""}`}
      style={{ height: `min(${props.maxHeight}, ${props.items.length * props.rowHeight}px)` }}
      data-testid={props.testid}
      role="list"
      aria-label={props.label}
    >
      <div class="relative w-full" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        <For each={virtualizer.getVirtualItems()}>
          {(row) => (
            <div role="listitem" class="absolute left-0 top-0 w-full" style={{ height: `${props.rowHeight}px`, transform: `translateY(${row.start}px)` }}>
              {props.items[row.index] !== undefined && props.children(props.items[row.index]!)}
            </div>
          )}
        </For>
      </div>
    </div>
  );
}
