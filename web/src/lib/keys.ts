import { onCleanup } from "solid-js";

/**
 * Global single-key and `g <key>` shortcuts, ignored while typing in a field. Registered for the
 * lifetime of the calling component.
 */
export function createShortcuts(bindings: Record<string, () => void>): void {
  let leader = false;
  let leaderTimer: ReturnType<typeof setTimeout> | undefined;
  const onKey = (event: KeyboardEvent) => {
    if (event.metaKey || event.ctrlKey || event.altKey || event.defaultPrevented) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (document.querySelector("dialog[open]")) return;
    const key = leader ? `g ${event.key}` : event.key;
    leader = false;
    clearTimeout(leaderTimer);
    if (key === "g") {
      leader = true;
      leaderTimer = setTimeout(() => (leader = false), 1200);
      return;
    }
    const action = bindings[key];
    if (action) {
      event.preventDefault();
      action();
    }
  };
  document.addEventListener("keydown", onKey);
  onCleanup(() => {
    document.removeEventListener("keydown", onKey);
    clearTimeout(leaderTimer);
  });
}
