/**
 * Lines of agent output, virtualised (only the rows in view are in the DOM, so 2,000 lines cost
 * what 40 do), as text nodes only: no markup from the agent ever reaches the page. Matches of
 * `query` are marked. While `follow` is on it stays at the newest line; scrolling up turns it off.
 */
import { For, Show, createEffect, on } from "solid-js";
import { createVirtualizer } from "@tanstack/solid-virtual";
import type { OutputLine } from "../../../party/protocol.ts";
import { splitMatches } from "../lib/terminal-text.ts";
import { lineShape } from "../lib/output-kind.ts";

/** A parsed line's chip: a tool call in blue, a result in green (red when it failed), an error in red. */
const CHIP: Record<string, string> = {
  tool: "bg-sky-500/20 text-sky-200",
  tool_result: "bg-zinc-700/60 text-zinc-300",
  error: "bg-rose-500/25 text-rose-200",
  result: "bg-emerald-500/20 text-emerald-200",
};

const ROW = 18;

export function LogView(props: {
  lines: OutputLine[];
  query: string;
  follow: boolean;
  onScrollAway?: () => void;
  empty: string;
  height?: string;
  testid?: string;
  class?: string;
  fit?: boolean;
}) {
  let scroller!: HTMLDivElement;
  const virtualizer = createVirtualizer({
    get count() {
      return props.lines.length;
    },
    getScrollElement: () => scroller,
    estimateSize: () => ROW,
    overscan: 12,
  });
  let previous: OutputLine[] = [];
  createEffect(
    on(
      () => [props.lines, props.follow] as const,
      ([lines, follow]) => {
        if (follow) scroller.scrollTop = scroller.scrollHeight;
        else if (previous.length && lines.length) {
          // Past the cap the oldest lines drop off the top: keep the line being read where it was.
          let removed = 0;
          while (removed < previous.length && previous[removed]!.seq < lines[0]!.seq) removed++;
          if (removed > 0 && removed < previous.length) scroller.scrollTop -= removed * ROW;
        }
        previous = lines;
      },
    ),
  );
  const onScroll = () => {
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < ROW * 1.5;
    if (!atBottom && props.follow) props.onScrollAway?.();
  };
  return (
    <div
      ref={scroller}
      onScroll={onScroll}
      tabIndex={0}
      class={`overflow-auto overscroll-contain ${props.class ?? ""} bg-zinc-950 font-mono text-xs leading-[18px] text-zinc-200 focus-visible:outline-2 focus-visible:outline-blue-500`}
      // `fit`: a finished run's few lines take their own height, up to `height`; a live tail keeps its size.
      style={{ height: props.fit && props.lines.length ? `min(${props.height ?? "24rem"}, ${props.lines.length * ROW + 20}px)` : (props.height ?? "24rem") }}
      data-testid={props.testid ?? "log"}
      data-lines={props.lines.length}
      role="log"
      aria-label="Agent output"
    >
      <Show when={props.lines.length} fallback={<p class="px-3 py-2 font-sans text-sm text-zinc-400">{props.empty}</p>}>
        <div class="relative min-w-full" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          <For each={virtualizer.getVirtualItems()}>
            {(row) => {
              const line = () => props.lines[row.index];
              return (
                <Show when={line()}>
                  {(l) => {
                    // Parsed lines (a preset's events) read as what they are; plain lines as printed.
                    const shape = () => lineShape(l());
                    return (
                      <div
                        class={`absolute left-0 top-0 flex w-max min-w-full whitespace-pre pr-3 ${l().stream === "err" || shape().failed ? "text-rose-300" : l().kind === "text" ? "text-zinc-50" : ""}`}
                        style={{ height: `${ROW}px`, transform: `translateY(${row.start}px)` }}
                        data-testid="log-line"
                        data-seq={l().seq}
                        data-stream={l().stream}
                        data-kind={l().kind}
                        data-ok={l().ok === undefined ? undefined : String(l().ok)}
                      >
                        <span class="sticky left-0 w-14 shrink-0 select-none bg-zinc-950 pr-3 text-right text-zinc-500">{l().seq}</span>
                        <Show when={shape().chip}>
                          {(chip) => (
                            <span
                              class={`mr-2 rounded px-1 font-sans text-[11px] ${shape().failed ? "bg-rose-500/25 text-rose-200" : CHIP[l().kind!]}`}
                              data-testid="log-chip"
                            >
                              {shape().failed && l().kind === "tool_result" ? "✗ " : l().kind === "tool_result" ? "✓ " : ""}
                              {chip()}
                            </span>
                          )}
                        </Show>
                        <span>
                          <For each={splitMatches(shape().text, props.query)}>
                            {(piece) => (piece.match ? <mark class="rounded-sm bg-amber-400/80 text-zinc-950">{piece.text}</mark> : piece.text)}
                          </For>
                        </span>
                      </div>
                    );
                  }}
                </Show>
              );
            }}
          </For>
        </div>
      </Show>
    </div>
  );
}
