/**
 * The town's live document (rigs with summaries, convoys, activity) behind one context. One socket
 * per open town, whatever the number of rigs: the overview never asks a rig room. The town's mail is
 * a document of its own, opened by the mail view (town-wide operators and links to that view).
 *
 * A session below the town reads less (party/access.ts, `reach`): a convoy link or a rig-scoped
 * operator reads the town's `scope` document (its convoy; its rig and the convoys it is in), with
 * the same shape; a rig, bead or agent link or a rig-scoped viewer reads its rig's document alone,
 * and this store is then made from it (`rigStore`, one socket).
 */
import { createContext, createMemo, useContext, type Accessor, type ParentProps } from "solid-js";
import type { Convoy, FeedEvent, Rig, TownUsage } from "../../../party/protocol.ts";
import { createLiveDoc, type Sync } from "../lib/live-doc.ts";
import type { Session } from "../lib/session.ts";
import type { Tone } from "../lib/tone.ts";
import { plural } from "../lib/words.ts";
import { createRigStore, type RigStore } from "./rig.tsx";
import { reachOf, type Reach } from "../lib/reach.ts";

export { reachOf, type Reach };

export type TownStore = {
  town: string;
  session: Session;
  isOperator: boolean;
  /** What of the town this session reads (see Reach). */
  reach: Reach;
  /** A session that reads one rig's document alone: that rig's store (the only socket). */
  rigStore?: RigStore;
  sync: Sync;
  rigs: Record<string, Rig>;
  convoys: Record<string, Convoy>;
  events: Accessor<FeedEvent[]>;
  /** Rigs, the ones needing attention first (see `attention`). */
  sortedRigs: Accessor<Rig[]>;
  rigByName: (name: string) => Rig | undefined;
  /** The town's usage today and its budget (the document's `usage` map, key `town`), once the rooms keep it. */
  usage: Accessor<TownUsage | undefined>;
};

/** How much a rig needs a person: stalled or dead agents, failed beads, open escalations. */
export function attention(rig: Rig): number {
  const s = rig.summary;
  return (
    (s.agents.dead ?? 0) * 4 +
    (s.agents.stalled ?? 0) * 4 +
    (s.agents.hung ?? 0) * 4 +
    (s.openEscalations ?? 0) * 3 +
    (s.beads.failed ?? 0) * 2 +
    (rig.status === "error" ? 4 : 0)
  );
}

/** What needs a person in this rig, in words; empty when nothing does. */
export function rigAlerts(rig: Rig): { text: string; tone: Tone }[] {
  const s = rig.summary;
  const alerts: { text: string; tone: Tone }[] = [];
  if (rig.status === "error" || s.status === "error") alerts.push({ text: "cannot be served", tone: "red" });
  if (s.agents.dead) alerts.push({ text: `${s.agents.dead} dead`, tone: "red" });
  if (s.agents.stalled) alerts.push({ text: `${s.agents.stalled} stalled`, tone: "amber" });
  if (s.agents.hung) alerts.push({ text: `${s.agents.hung} hung`, tone: "amber" });
  if (s.beads.failed) alerts.push({ text: `${s.beads.failed} failed`, tone: "red" });
  if (s.openEscalations) alerts.push({ text: plural(s.openEscalations, "escalation"), tone: "amber" });
  if (s.usage?.hold) alerts.push({ text: s.usage.hold.by === "town" ? "on hold: town budget" : "on hold: budget", tone: "amber" });
  return alerts;
}

export function createTownStore(town: string, session: Session): TownStore {
  const reach = reachOf(session);
  if (reach.kind === "rig") return rigOnlyStore(town, session, reach.rigId);
  const doc = createLiveDoc(
    { party: "main", room: town, doc: reach.kind === "town" ? "town" : "scope", token: session.token },
    { maps: ["rigs", "convoys", "usage"], arrays: ["events"] },
  );
  const usage = doc.map<TownUsage>("usage");
  const rigs = doc.map<Rig>("rigs");
  const sortedRigs = createMemo(() =>
    Object.values(rigs)
      .filter((r): r is Rig => !!r)
      .sort((a, b) => attention(b) - attention(a) || a.name.localeCompare(b.name)),
  );
  return {
    town,
    session,
    isOperator: session.role === "operator",
    reach,
    sync: doc.sync,
    rigs,
    convoys: doc.map<Convoy>("convoys"),
    events: doc.array<FeedEvent>("events"),
    sortedRigs,
    rigByName: (name) => sortedRigs().find((r) => r.name === name),
    usage: () => usage.town,
  };
}

/** A session that reads one rig's document alone: the town as far as it knows it, that one rig. */
function rigOnlyStore(town: string, session: Session, rigId: string): TownStore {
  const rigStore = createRigStore(town, rigId, session.token);
  const known = () => (rigStore.meta() ? [rigStore.rig] : []);
  return {
    town,
    session,
    isOperator: session.role === "operator",
    reach: { kind: "rig", rigId },
    rigStore,
    sync: rigStore.sync,
    rigs: new Proxy({} as Record<string, Rig>, { get: (_, id) => (id === rigId && rigStore.meta() ? rigStore.rig : undefined) }),
    convoys: {},
    events: () => [],
    sortedRigs: known,
    rigByName: (name) => known().find((r) => r.name === name),
    usage: () => undefined,
  };
}

/** What a session below the town cannot see, in words ("this link shows rig docs only"), or null when it sees the whole town. */
export function reachText(town: TownStore): string | null {
  const who = town.session.view ? "this link" : "this token";
  const reach = town.reach;
  if (reach.kind === "town") return null;
  if (reach.kind === "rig") return `${who} shows rig ${town.rigs[reach.rigId]?.name ?? "(its rig)"} only`;
  if (reach.convoy) return `${who} shows convoy ${town.convoys[reach.convoy]?.title ?? "(its convoy)"} only`;
  return `${who} shows rig ${town.rigs[reach.rig ?? ""]?.name ?? "(its rig)"} and the convoys it is in only`;
}

const TownContext = createContext<TownStore>();

export function TownProvider(props: ParentProps<{ store: TownStore }>) {
  return <TownContext.Provider value={props.store}>{props.children}</TownContext.Provider>;
}

export function useTown(): TownStore {
  const store = useContext(TownContext);
  if (!store) throw new Error("useTown outside a TownProvider");
  return store;
}
