/**
 * One rig's live document (beads, agents, mail, escalations, activity) behind one context. Opened
 * when a rig view is shown and closed when the person leaves it (the provider's onCleanup).
 */
import { createComputed, createContext, createMemo, createSignal, useContext, type Accessor, type ParentProps } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import type { Agent, Bead, Escalation, FeedEvent, Mail, Rig } from "../../../party/protocol.ts";
import { createLiveDoc, type Sync } from "../lib/live-doc.ts";
import { rigFromDoc, type RigMeta } from "../lib/rig-from-doc.ts";

export type { RigMeta };

export type RigStore = {
  rig: Rig;
  sync: Sync;
  meta: Accessor<RigMeta | undefined>;
  beads: Record<string, Bead>;
  agents: Record<string, Agent>;
  mail: Record<string, Mail>;
  escalations: Record<string, Escalation>;
  events: Accessor<FeedEvent[]>;
  agentList: Accessor<Agent[]>;
  mailList: Accessor<Mail[]>;
};

const AGENT_ORDER = { dead: 0, hung: 1, stalled: 2, stopping: 3, working: 4, idle: 5 } as const;

/**
 * `registered`: the rig's entry in the town's registry. Without it (a session that reads this rig's
 * document alone) the rig is made from the document: its meta and counts of what it holds.
 */
export function createRigStore(town: string, rigId: string, token: string, registered?: Rig): RigStore {
  const doc = createLiveDoc(
    { party: "rig", room: `${town}.${rigId}`, doc: "rig", token },
    { maps: ["meta", "beads", "agents", "mail", "escalations"], arrays: ["events"] },
  );
  const meta = doc.map<RigMeta>("meta");
  const agents = doc.map<Agent>("agents");
  const mail = doc.map<Mail>("mail");
  const beads = doc.map<Bead>("beads");
  const escalations = doc.map<Escalation>("escalations");
  let rig = registered;
  if (!rig) {
    const [made, setMade] = createStore<Rig>(rigFromDoc(rigId, undefined, {}, {}, {}));
    createComputed(() => setMade(reconcile(rigFromDoc(rigId, meta.rig, beads, agents, escalations))));
    rig = made;
  }
  return {
    rig,
    sync: doc.sync,
    meta: () => meta.rig,
    beads,
    agents,
    mail,
    escalations,
    events: doc.array<FeedEvent>("events"),
    agentList: createMemo(() =>
      Object.values(agents)
        .filter(Boolean)
        .sort((a, b) => AGENT_ORDER[a.status] - AGENT_ORDER[b.status] || a.identity.localeCompare(b.identity)),
    ),
    mailList: createMemo(() =>
      Object.values(mail)
        .filter(Boolean)
        .sort((a, b) => b.sentAt - a.sentAt),
    ),
  };
}

const RigContext = createContext<RigStore>();

/** The rig whose document is open (a rig view is shown), for what lives outside it: the town's search. */
export const [openRig, setOpenRig] = createSignal<RigStore | null>(null);

export function RigProvider(props: ParentProps<{ store: RigStore }>) {
  return <RigContext.Provider value={props.store}>{props.children}</RigContext.Provider>;
}

export function useRig(): RigStore {
  const store = useContext(RigContext);
  if (!store) throw new Error("useRig outside a RigProvider");
  return store;
}
