import { createRoot, createSignal, type Accessor } from "solid-js";

/**
 * One shared clock for every relative time on screen, ticking each second while anything reads it;
 * so "3 s ago" stays true without a timer per row.
 */
let clock: Accessor<number> | undefined;
export function now(): number {
  clock ??= createRoot(() => {
    const [time, setTime] = createSignal(Date.now());
    setInterval(() => setTime(Date.now()), 1000);
    return time;
  });
  return clock();
}

export function relative(at: number, from: number): string {
  const s = Math.max(0, Math.round((from - at) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

export function absolute(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** The last 8 characters of a ULID: enough to tell beads apart on screen, and what the feed uses. */
export const shortId = (id: string) => id.slice(-8);

/** How long until `at`, for an expiry: "in 45 min", "in 23 h", "in 6 days"; "now" once it has passed. */
export function until(at: number, from: number): string {
  const s = Math.round((at - from) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return "in less than a minute";
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `in ${h} h`;
  return `in ${Math.floor(h / 24)} days`;
}
