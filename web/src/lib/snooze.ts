/**
 * Snoozing attention items, per browser: an occurrence of an item (see `occurrence`: the item and
 * its `at`) is hidden from the lane, the tab's count and notifications until a time. The same item
 * raised again has a new `at`, so it is not snoozed. Kept in localStorage per town; other tabs
 * follow through the storage event.
 */
import { createSignal, onCleanup, type Accessor } from "solid-js";

export type SnoozeChoice = "1h" | "4h" | "tomorrow";

export const SNOOZE_CHOICES: { choice: SnoozeChoice; label: string }[] = [
  { choice: "1h", label: "for 1 hour" },
  { choice: "4h", label: "for 4 hours" },
  { choice: "tomorrow", label: "until tomorrow 08:00" },
];

/** Occurrence → until when (ms since the epoch). */
export type Snoozes = Record<string, number>;

const HOUR = 3_600_000;

/** When a snooze chosen at `now` ends: in 1 or 4 hours, or at 08:00 tomorrow (local time). */
export function snoozeUntil(choice: SnoozeChoice, now: number): number {
  if (choice === "1h") return now + HOUR;
  if (choice === "4h") return now + 4 * HOUR;
  const d = new Date(now);
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return d.getTime();
}

export const snoozeStorageKey = (town: string) => `townhall.snooze.${town}`;

/** The stored snoozes still running at `now`; anything unreadable counts as none. */
export function parseSnoozes(raw: string | null, now: number): Snoozes {
  if (!raw) return {};
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return {};
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return {};
  const out: Snoozes = {};
  for (const [key, until] of Object.entries(data)) if (typeof until === "number" && Number.isFinite(until) && until > now) out[key] = until;
  return out;
}

/** Splits rows into the ones shown and the ones snoozed at `now`. */
export function splitSnoozed<R>(rows: R[], occurrenceOf: (row: R) => string, snoozes: Snoozes, now: number): { open: R[]; snoozed: R[] } {
  const open: R[] = [];
  const snoozed: R[] = [];
  for (const row of rows) ((snoozes[occurrenceOf(row)] ?? 0) > now ? snoozed : open).push(row);
  return { open, snoozed };
}

/** The first snooze to end after `now`, if any (when the lane must look again). */
export function nextExpiry(snoozes: Snoozes, now: number): number | null {
  let next: number | null = null;
  for (const until of Object.values(snoozes)) if (until > now && (next === null || until < next)) next = until;
  return next;
}

export type SnoozeStore = {
  snoozes: Accessor<Snoozes>;
  /** The clock snoozes are read against: moves when one ends. */
  now: Accessor<number>;
  snooze(occurrences: string[], choice: SnoozeChoice): void;
  unsnooze(occurrences: string[]): void;
};

/** The town's snoozes in this browser, live: ends them on time and follows other tabs. */
export function createSnoozes(town: string): SnoozeStore {
  const key = snoozeStorageKey(town);
  const read = () => {
    try {
      return parseSnoozes(localStorage.getItem(key), Date.now());
    } catch {
      return {};
    }
  };
  const [snoozes, setSnoozes] = createSignal<Snoozes>(read());
  const [now, setNow] = createSignal(Date.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (s: Snoozes) => {
    clearTimeout(timer);
    const next = nextExpiry(s, Date.now());
    // setTimeout holds at most ~24.8 days; a later end is looked at again then.
    if (next !== null) timer = setTimeout(() => refresh(), Math.min(next - Date.now() + 50, 2 ** 31 - 1));
  };
  const refresh = () => {
    const s = read();
    setNow(Date.now());
    setSnoozes(s);
    schedule(s);
  };
  const write = (s: Snoozes) => {
    try {
      if (Object.keys(s).length) localStorage.setItem(key, JSON.stringify(s));
      else localStorage.removeItem(key);
    } catch {
      // storage disabled: the snooze lasts for this page only
    }
    setNow(Date.now());
    setSnoozes(s);
    schedule(s);
  };
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key === key) refresh();
  };
  window.addEventListener("storage", onStorage);
  schedule(snoozes());
  onCleanup(() => {
    window.removeEventListener("storage", onStorage);
    clearTimeout(timer);
  });
  return {
    snoozes,
    now,
    snooze(occurrences, choice) {
      const until = snoozeUntil(choice, Date.now());
      const s = { ...parseSnoozes(JSON.stringify(snoozes()), Date.now()) };
      for (const o of occurrences) s[o] = until;
      write(s);
    },
    unsnooze(occurrences) {
      const s = { ...snoozes() };
      for (const o of occurrences) delete s[o];
      write(s);
    },
  };
}
