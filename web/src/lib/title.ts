/**
 * The tab's title: first whether the operator is needed (the attention lane's count, or that the
 * town's connection is down), then what is shown, then where, then the app
 * ("(3) backend · demo — Townhall", "⚠ Reconnecting · overview · demo — Townhall").
 */
import type { SyncStatus } from "../../../client/doc-sync.ts";

export type TitleState = { sync: SyncStatus; loaded: boolean; count: number };

/** What goes before the page's name: the lane's count while live, the connection's state while down. */
export function titlePrefix(state: TitleState | null): string {
  if (!state) return "";
  // While down, a count would be the last one known: the state says more, and nothing stale.
  if (state.sync === "reconnecting") return "⚠ Reconnecting";
  if (state.sync === "closed") return "⚠ Disconnected";
  if (!state.loaded || state.count <= 0) return "";
  return `(${state.count})`;
}

export function titleText(parts: (string | null | undefined)[], state: TitleState | null): string {
  const named = parts.filter((p): p is string => !!p);
  const page = named.length ? `${named.join(" · ")} — Townhall` : "Townhall";
  const prefix = titlePrefix(state);
  if (!prefix) return page;
  return prefix.startsWith("(") ? `${prefix} ${page}` : `${prefix} · ${page}`;
}

let parts: (string | null | undefined)[] = [];
let state: TitleState | null = null;

/** The page's part of the title (what is shown, where). */
export function setTitle(...named: (string | null | undefined)[]): void {
  parts = named;
  document.title = titleText(parts, state);
}

/** The town's part of the title (set by the town's frame; null outside a town). */
export function setTitleState(next: TitleState | null): void {
  state = next;
  document.title = titleText(parts, state);
}
