/**
 * Small hand-made SVG charts: a day of hourly bars, a load meter, a burn-down. A few dozen
 * elements each, no library (and nothing added to the entry chunk); colours come from the theme
 * through `currentColor`, and each chart says in words what it shows (aria-label, title).
 */
import { For, Show, createMemo, createSignal, onCleanup, onMount } from "solid-js";
import { countTicks, hourStart, hourly, timeTicks, type BurnPoint } from "../lib/charts.ts";
import { absolute } from "../lib/time.ts";

/**
 * Beads closed per hour over the last 24 h, the current hour on the right: a small bar chart with
 * its axis (0 and the busiest hour's count on the left; the first hour and "now" below), drawn at
 * its own size so the text stays text-sized.
 */
export function HourBars(props: { counts: readonly number[] | undefined; now: number; class?: string }) {
  const hours = createMemo(() => hourly(props.counts));
  const max = createMemo(() => Math.max(...hours()));
  const top = createMemo(() => countTicks(max(), 2).at(-1)!);
  const total = createMemo(() => hours().reduce((a, n) => a + n, 0));
  const pad = { l: 18, r: 2, t: 6, b: 13 };
  const bar = 7;
  const W = pad.l + 24 * bar + pad.r;
  const H = 54;
  const plot = H - pad.t - pad.b;
  const hourLabel = (hoursAgo: number) => {
    const d = new Date(hourStart(props.now, hoursAgo));
    return `${String(d.getHours()).padStart(2, "0")}:00`;
  };
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      class={`shrink-0 text-zinc-500 ${props.class ?? ""}`}
      role="img"
      aria-label={`${total()} beads closed in the last 24 hours, at most ${max()} in an hour`}
      data-testid="closed-by-hour"
      data-total={total()}
      data-max={max()}
    >
      <line x1={pad.l} x2={W - pad.r} y1={pad.t + plot + 0.5} y2={pad.t + plot + 0.5} stroke="currentColor" stroke-opacity="0.4" stroke-width="1" />
      <line x1={pad.l} x2={W - pad.r} y1={pad.t + 0.5} y2={pad.t + 0.5} stroke="currentColor" stroke-opacity="0.2" stroke-dasharray="2 2" />
      <text x={pad.l - 3} y={pad.t + 3} text-anchor="end" font-size="9" fill="currentColor" data-testid="hour-axis-top">
        {top()}
      </text>
      <text x={pad.l - 3} y={pad.t + plot + 3} text-anchor="end" font-size="9" fill="currentColor">
        0
      </text>
      <text x={pad.l} y={H - 2} font-size="9" fill="currentColor" data-testid="hour-axis-start">
        {hourLabel(23)}
      </text>
      <text x={W - pad.r} y={H - 2} text-anchor="end" font-size="9" fill="currentColor">
        now
      </text>
      <g class="text-emerald-500">
        <For each={hours()}>
          {(n, i) => {
            const h = () => (n === 0 ? 0 : Math.max(1.5, (n / top()) * plot));
            return (
              <rect x={pad.l + i() * bar + 0.5} width={bar - 1} y={pad.t + plot - h()} height={h()} fill="currentColor" data-testid="hour-bar" data-count={n}>
                <title>{`${n} closed, ${hourLabel(23 - i())}–${hourLabel(22 - i())}`}</title>
              </rect>
            );
          }}
        </For>
      </g>
    </svg>
  );
}

/** Working polecats of the rig's maximum: one cell per slot (a bar past 16 slots). */
export function LoadMeter(props: { working: number; max: number }) {
  const cells = () => Math.min(props.max, 16);
  const filled = () => (props.max <= 16 ? Math.min(props.working, props.max) : Math.round((Math.min(props.working, props.max) / props.max) * 16));
  return (
    <span
      class="inline-flex items-center gap-0.5"
      role="meter"
      aria-valuemin={0}
      aria-valuemax={props.max}
      aria-valuenow={props.working}
      aria-label={`${props.working} of ${props.max} polecats working`}
      data-testid="rig-load"
      data-working={props.working}
      data-max={props.max}
    >
      <For each={Array.from({ length: cells() }, (_, i) => i)}>
        {(i) => <span class={`h-3 w-1.5 rounded-sm ${i < filled() ? "bg-blue-500" : "bg-zinc-200 dark:bg-zinc-700"}`} />}
      </For>
    </span>
  );
}

/**
 * Beads not closed yet over time, stepping down as each closes, from the convoy's start to `end`
 * (its landing, or now). A marker per closed bead.
 */
/** A chart's horizontal grid: a line per tick (solid at zero) and its label left of the plot. */
export function YGrid(props: {
  ticks: readonly number[];
  y: (t: number) => number;
  left: number;
  right: number;
  label: (t: number) => string;
  testid?: string;
}) {
  return (
    <For each={props.ticks}>
      {(t) => (
        <>
          <line
            x1={props.left}
            x2={props.right}
            y1={props.y(t)}
            y2={props.y(t)}
            stroke="currentColor"
            stroke-opacity="0.25"
            stroke-dasharray={t === 0 ? undefined : "3 3"}
          />
          <text x={props.left - 6} y={props.y(t) + 3.5} text-anchor="end" font-size="10" fill="currentColor" data-testid={props.testid}>
            {props.label(t)}
          </text>
        </>
      )}
    </For>
  );
}

export function BurnDown(props: { total: number; points: BurnPoint[]; end: number }) {
  // Drawn at the width it is shown at (text stays text-sized), measured as the page resizes.
  let box!: HTMLDivElement;
  const [width, setWidth] = createSignal(600);
  onMount(() => {
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.max(200, Math.round(entry.contentRect.width))));
    observer.observe(box);
    onCleanup(() => observer.disconnect());
  });
  const H = 160;
  const pad = { l: 28, r: 12, t: 8, b: 20 };
  const start = () => props.points[0]?.at ?? props.end;
  const span = () => Math.max(1, props.end - start());
  const x = (at: number) => pad.l + ((at - start()) / span()) * (width() - pad.l - pad.r);
  // Whole beads on the y axis, evenly spaced from 0 to the first tick at or above the total.
  const ticks = createMemo(() => countTicks(props.total, 6));
  const top = () => ticks().at(-1)!;
  const y = (remaining: number) => pad.t + (1 - remaining / top()) * (H - pad.t - pad.b);
  // About one time label per 90 px, so "Dec 8 20:20" labels never touch.
  const times = createMemo(() => timeTicks(start(), props.end, Math.max(2, Math.floor((width() - pad.l - pad.r) / 90))));
  const path = createMemo(() => {
    const pts = props.points;
    if (!pts.length) return "";
    let d = `M${x(pts[0]!.at)},${y(pts[0]!.remaining)}`;
    for (let i = 1; i < pts.length; i++) d += ` H${x(pts[i]!.at)} V${y(pts[i]!.remaining)}`;
    return `${d} H${x(props.end)}`;
  });
  const left = () => props.points[props.points.length - 1]?.remaining ?? props.total;
  return (
    <div ref={box} class="w-full">
      <svg
        viewBox={`0 0 ${width()} ${H}`}
        class="h-40 w-full text-zinc-400"
        role="img"
        aria-label={`Burn-down: ${props.total - left()} of ${props.total} beads closed, ${left()} to go`}
        data-testid="burn-down"
        data-done={props.points.length - 1}
      >
        <YGrid ticks={ticks()} y={y} left={pad.l} right={width() - pad.r} label={String} testid="burn-y-tick" />
        <For each={times()}>
          {(t) => (
            <>
              <line x1={x(t.at)} x2={x(t.at)} y1={H - pad.b} y2={H - pad.b + 3} stroke="currentColor" stroke-opacity="0.5" />
              <text
                x={x(t.at)}
                y={H - 5}
                font-size="10"
                fill="currentColor"
                text-anchor={x(t.at) > width() - pad.r - 32 ? "end" : x(t.at) < pad.l + 32 ? "start" : "middle"}
                data-testid="burn-x-tick"
                data-at={t.at}
              >
                {t.label}
              </text>
            </>
          )}
        </For>
        <path d={path()} fill="none" stroke-width="2" class="stroke-blue-500" stroke-linejoin="round" />
        <For each={props.points}>
          {(p, i) => (
            <Show when={i() > 0}>
              <circle cx={x(p.at)} cy={y(p.remaining)} r="3" class="fill-blue-500" data-testid="burn-point">
                <title>{`${p.remaining} to go at ${absolute(p.at)}`}</title>
              </circle>
            </Show>
          )}
        </For>
      </svg>
    </div>
  );
}
