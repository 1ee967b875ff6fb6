/**
 * One rig's live document (beads, agents, mail, escalations, activity) behind one context. Opened
 * when a rig view is shown and closed when the person leaves it (the provider's onCleanup).
 */
import { createContext, createMemo, createSignal, useContext, type Accessor, type ParentProps } from "solid-js";
import type { Agent, Bead, Escalation, FeedEvent, Mail, Rig } from "../../../party/protocol.ts";
import { createLiveDoc, type Sync } from "../lib/live-doc.ts";

export type RigMeta = { name: string; rigId: string; status: string; maxPolecats: number; defaultBranch: string; gitUrl: string; diskBytes?: number | null };

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

export function createRigStore(town: string, rig: Rig, token: string): RigStore {
  const doc = createLiveDoc(
    { party: "rig", room: `${town}.${rig.id}`, doc: "rig", token },
    { maps: ["meta", "beads", "agents", "mail", "escalations"], arrays: ["events"] },
  );
  const meta = doc.map<RigMeta>("meta");
  const agents = doc.map<Agent>("agents");
  const mail = doc.map<Mail>("mail");
  return {
    rig,
    sync: doc.sync,
    meta: () => meta.rig,
    beads: doc.map<Bead>("beads"),
    agents,
    mail,
    escalations: doc.map<Escalation>("escalations"),
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
