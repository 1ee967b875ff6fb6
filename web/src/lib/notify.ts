/**
 * Browser notifications for new attention items, opt-in per browser and town. Which items are new
 * is a pure rule over occurrences (an item and its `at`, as the lane and snoozes use): the ones not
 * seen since the page loaded. Notifications go out only while the tab is hidden: when it is shown,
 * the lane and the tab's count already say it.
 */
import { createSignal, type Accessor } from "solid-js";

/**
 * The rows among `rows` that are new: not in `seen`. `seen` starts as everything present when the
 * page loaded, so those never notify; the caller adds each row it has looked at.
 */
export function freshRows<R>(seen: ReadonlySet<string>, rows: R[], occurrenceOf: (row: R) => string): R[] {
  return rows.filter((row) => !seen.has(occurrenceOf(row)));
}

export const notifyStorageKey = (town: string) => `townhall.notify.${town}`;

/** What the control can say: on, off, or why it cannot be turned on. */
export type NotifyState = "on" | "off" | "blocked" | "unsupported";

export type NotifySetting = {
  state: Accessor<NotifyState>;
  /** Asks the browser's permission (only here, on the operator's click), then turns on. */
  enable(): Promise<void>;
  disable(): void;
};

const supported = () => typeof window !== "undefined" && "Notification" in window;

export function createNotifySetting(town: string): NotifySetting {
  const key = notifyStorageKey(town);
  const stored = () => {
    try {
      return localStorage.getItem(key) === "on";
    } catch {
      return false;
    }
  };
  const initial = (): NotifyState => {
    if (!supported()) return "unsupported";
    if (Notification.permission === "denied") return "blocked";
    // On only if chosen here and still allowed (a permission taken back in the browser's settings turns it off).
    return stored() && Notification.permission === "granted" ? "on" : "off";
  };
  const [state, setState] = createSignal<NotifyState>(initial());
  const remember = (on: boolean) => {
    try {
      if (on) localStorage.setItem(key, "on");
      else localStorage.removeItem(key);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
  };
  return {
    state,
    async enable() {
      if (!supported()) {
        setState("unsupported");
        return;
      }
      // Asked on this click only (never on load); a browser that already allows it answers at once.
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        setState(permission === "denied" ? "blocked" : "off");
        return;
      }
      remember(true);
      setState("on");
    },
    disable() {
      remember(false);
      setState(supported() && Notification.permission === "denied" ? "blocked" : "off");
    },
  };
}
