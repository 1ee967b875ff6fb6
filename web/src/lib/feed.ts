/**
 * The activity feed's rules, apart from its view: an event's tone (the room's, or one read from its
 * kind for events written before rooms set tones), the filters, and where an event's names link to.
 */
import type { FeedEvent, FeedTone } from "../../../party/protocol.ts";
import type { Tone } from "./tone.ts";

/** The feed's tones in the dashboard's colours (lib/tone.ts). */
export const FEED_TONE: Record<FeedTone, Tone> = { bad: "red", warn: "amber", good: "green", info: "neutral" };

/** Failures, escalations and agents in trouble stand out even when the event carries no tone. */
const KIND_TONES: Record<string, FeedTone> = { failed: "bad", escalation: "bad", dead: "bad", stalled: "warn", hung: "warn", landed: "good" };

export function feedTone(event: FeedEvent): FeedTone {
  return event.tone ?? KIND_TONES[event.kind] ?? "info";
}

/** "problems": bad or warn events of any kind. */
export const PROBLEMS = "problems";

export type FeedFilter = { kind: string; rig: string };
export const ALL: FeedFilter = { kind: "", rig: "" };

export function matches(event: FeedEvent, filter: FeedFilter): boolean {
  if (filter.rig && event.rig !== filter.rig) return false;
  if (filter.kind === PROBLEMS) return feedTone(event) === "bad" || feedTone(event) === "warn";
  return !filter.kind || event.kind === filter.kind;
}

/** The newest `limit` events that pass the filter, newest first. */
export function visibleEvents(events: readonly FeedEvent[], filter: FeedFilter, limit: number): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (let i = events.length - 1; i >= 0 && out.length < limit; i--) if (matches(events[i]!, filter)) out.push(events[i]!);
  return out;
}

/** Kinds and rigs the events name, sorted, for the filters' choices. */
export function facets(events: readonly FeedEvent[]): { kinds: string[]; rigs: string[] } {
  const kinds = new Set<string>();
  const rigs = new Set<string>();
  for (const e of events) {
    kinds.add(e.kind);
    if (e.rig) rigs.add(e.rig);
  }
  return { kinds: [...kinds].sort(), rigs: [...rigs].sort() };
}

export type FeedLink = { kind: "rig" | "bead" | "agent"; label: string; href: string };

/**
 * Links to what an event names: its rig, its bead (in its rig) and its agent (a rig agent's page;
 * the Mayor and the operator have none). `fallbackRig` is the rig whose own feed this is.
 */
export function feedLinks(event: FeedEvent, base: string, fallbackRig?: string): FeedLink[] {
  const links: FeedLink[] = [];
  const agentRig = event.agent?.includes("/") ? event.agent.split("/")[0] : undefined;
  const rig = event.rig ?? agentRig ?? fallbackRig;
  if (event.rig && event.rig !== fallbackRig) links.push({ kind: "rig", label: event.rig, href: `${base}/rigs/${event.rig}` });
  if (event.bead && rig) links.push({ kind: "bead", label: `bead ${event.bead.slice(-8)}`, href: `${base}/rigs/${rig}/beads/${event.bead}` });
  if (event.agent && agentRig) {
    const name = event.agent.split("/").pop()!;
    links.push({ kind: "agent", label: name, href: `${base}/rigs/${agentRig}/agents/${name}` });
  }
  return links;
}
