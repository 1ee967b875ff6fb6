/**
 * Feed events as pure decisions: the tone of each kind of event, which of a rig's events the town's
 * feed must also show (its failures, so the overview tells the truth from the town document alone),
 * and the budget that keeps a rig from flooding the town's feed: a hostile agent looping gt_escalate
 * gets its first few escalations through, and the rest merged into one line per window.
 */
import { FAILURE_KINDS, LIMITS, type FeedEvent, type FeedTone } from "./protocol.ts";
import { cut, redactUrls } from "./attention.ts";

/** The tone of a kind when the code that writes the event does not say (most kinds are neutral). */
const KIND_TONES: Record<string, FeedTone> = {
  failed: "bad",
  dead: "bad",
  hung: "warn",
  stalled: "warn",
  escalation: "warn",
  landed: "good",
};

export function toneOf(kind: string): FeedTone {
  return KIND_TONES[kind] ?? "info";
}

/** An escalation's tone (the work machine writes escalations' feed lines). */
export { escalationTone } from "./work/index.ts";

export type FeedAbout = { tone?: FeedTone | undefined; rig?: string | undefined; bead?: string | undefined; agent?: string | undefined };

/** A feed event: its text on one line within LIMITS.feedText, its tone the kind's unless given. */
export function makeEvent(id: string, at: number, kind: string, text: string, about: FeedAbout = {}): FeedEvent {
  const event: FeedEvent = { id, at, kind, text: cut(text, LIMITS.feedText), tone: about.tone ?? toneOf(kind) };
  if (about.rig) event.rig = about.rig;
  if (about.bead) event.bead = about.bead;
  if (about.agent) event.agent = about.agent;
  return event;
}

const FAILURES: ReadonlySet<string> = new Set(FAILURE_KINDS);

/**
 * Whether a rig's event belongs in the town's feed too: its failures (a bead failed, an escalation,
 * a stalled, hung or dead agent), a merge that failed, and a clone that failed. Landings and the
 * rest stay in the rig's own feed (the town has its own landings: convoys).
 */
export function reachesTown(event: Pick<FeedEvent, "kind" | "tone">): boolean {
  if (FAILURES.has(event.kind)) return true;
  // A rig's dispatch held by a budget, or released (W22): the town hears it; a budget set it wrote itself.
  if (event.kind === "budget") return event.tone === "warn" || event.tone === "good";
  return (event.kind === "merge" || event.kind === "rig") && (event.tone === "bad" || event.tone === "warn");
}

/** How many of a rig's failures reach the town's feed one by one per window; the rest are merged. */
export const TOWN_NOTICES = { perWindow: 5, windowMs: 60_000 } as const;

/**
 * One rig's window of town notices: how many were sent one by one, and what was held back (by kind),
 * to be told as one merged line when the window ends. `heldId`: the merged line's event id, fixed
 * per window, so a retried or replaced notice is stored once.
 */
export type NoticeWindow = { start: number; sent: number; held: Record<string, number>; tone: FeedTone | null; heldId: string | null };

export type NoticeDecision = { window: NoticeWindow; send: true } | { window: NoticeWindow; send: false; dueAt: number };

/** Sends an event one by one while the window has room; otherwise counts it in the window's merged line, due at the window's end. */
export function admitNotice(
  window: NoticeWindow | null,
  event: Pick<FeedEvent, "kind" | "tone">,
  now: number,
  newId: () => string,
  rule: { perWindow: number; windowMs: number } = TOWN_NOTICES,
): NoticeDecision {
  const current = window && now < window.start + rule.windowMs ? window : { start: now, sent: 0, held: {}, tone: null, heldId: null };
  if (current.sent < rule.perWindow) return { window: { ...current, sent: current.sent + 1 }, send: true };
  const tone = worse(current.tone, event.tone ?? toneOf(event.kind));
  const held = { ...current.held, [event.kind]: (current.held[event.kind] ?? 0) + 1 };
  return { window: { ...current, held, tone, heldId: current.heldId ?? newId() }, send: false, dueAt: current.start + rule.windowMs };
}

/** The one line that tells what a window held back, or null when it held nothing. */
export function mergedEvent(window: NoticeWindow, at: number, rigName: string): FeedEvent | null {
  const kinds = Object.entries(window.held).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = kinds.reduce((n, [, k]) => n + k, 0);
  if (!total || !window.heldId) return null;
  const detail = kinds.map(([kind, n]) => `${n} ${kind}`).join(", ");
  return makeEvent(window.heldId, at, kinds[0]![0], `${rigName}: ${total} more ${total === 1 ? "failure" : "failures"} (${detail}); see the rig's feed`, {
    tone: window.tone ?? "warn",
  });
}

const TONE_ORDER: Record<FeedTone, number> = { bad: 0, warn: 1, good: 2, info: 3 };

function worse(a: FeedTone | null, b: FeedTone): FeedTone {
  return a === null || TONE_ORDER[b] < TONE_ORDER[a] ? b : a;
}

/** A rig's event as the town's feed shows it: the rig named in it and in `rig`, credentials in URLs hidden. */
export function forTown(event: FeedEvent, rigName: string): FeedEvent {
  const text = redactUrls(event.text);
  const named = text.startsWith(`${rigName}/`) || text.startsWith(`${rigName}:`) ? text : `${rigName}: ${text}`;
  return { ...event, text: cut(named, LIMITS.feedText), rig: rigName };
}
