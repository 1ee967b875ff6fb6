/**
 * What in a rig needs the operator (the overview's attention lane), as pure functions over the rig's
 * records. The list rides in the rig's summary in the town document, so the overview needs only the
 * town socket; it is bounded (LIMITS.attentionItems items, texts cut) whatever the rig holds.
 */
import {
  LIMITS,
  redactGitUrl,
  type Agent,
  type AttentionItem,
  type Bead,
  type BudgetHold,
  type Convoy,
  type Escalation,
  type Mail,
  type RigStatus,
} from "./protocol.ts";

/**
 * Ranks, worst first: a critical escalation, a rig that cannot work at all (its clone, or a budget
 * reached: no new run starts), dead, hung and stalled agents (live trouble with a deadline: a hung
 * run is stopped GT_AGENT_IDLE_MS after its nudge, so it must be seen now, before work that waits
 * for someone however long it takes), high escalations, failed beads and stuck convoys, medium
 * escalations, mail nobody will read, low escalations. Within one rank the newest comes first: the
 * operator has seen the older ones already.
 */
export const RANK = {
  critical: 0,
  rig_error: 1,
  budget: 1,
  dead: 2,
  hung: 3,
  stalled: 4,
  high: 5,
  failed_bead: 6,
  stuck_convoy: 6,
  medium: 7,
  waiting_mail: 8,
  low: 9,
} as const;

/**
 * Of a rig's `limit` items, how many troubled agents keep a place whatever else the rig holds: a rig
 * with 20 failed beads and escalations must not push a hung agent out of its list.
 */
export const AGENT_PLACES = Math.floor(LIMITS.attentionItems / 2);

/**
 * A witness's nudge kept as mail by an older rig room (nudges ride on the reply to the agent's next
 * tool call now, lifecycle W8): not mail anyone has to read, so never counted as mail waiting.
 */
export function isNudgeMail(m: Pick<Mail, "from" | "subject">): boolean {
  return m.from.endsWith("/witness") && m.subject.startsWith("nudge:");
}

/**
 * An item's rank from the item alone (its kind, an escalation's severity, an agent's state as its
 * detail starts): the same order each rig's list is built in, so the lane that merges every rig's
 * lists (web/src/lib/attention.ts) keeps it.
 */
export function rankOf(item: AttentionItem): number {
  switch (item.kind) {
    case "escalation":
      return RANK[item.severity ?? "medium"];
    case "agent": {
      const state = /^(dead|hung|stalled)\b/.exec(item.detail)?.[1] as "dead" | "hung" | "stalled" | undefined;
      return RANK[state ?? "hung"];
    }
    default:
      return RANK[item.kind];
  }
}

type Ranked = { rank: number; item: AttentionItem };

/** Negative when `a` is worse (shown first). */
function compareRanked(a: Ranked, b: Ranked): number {
  return a.rank - b.rank || b.item.at - a.item.at || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0);
}

export type AttentionInput = {
  rig: { id: string; name: string; status?: RigStatus | undefined; error?: string | undefined; errorAt?: number | undefined };
  beads: Iterable<Bead>;
  agents: Iterable<Agent>;
  mail: Iterable<Mail>;
  escalations: Iterable<Escalation>;
  /** Dispatch held by a budget reached (W22): its reason says the figures. */
  hold?: BudgetHold | undefined;
};

/** Agent states that need someone: its heartbeats are late, it makes no progress, or it is gone. */
const TROUBLED: Record<"stalled" | "hung" | "dead", string> = {
  stalled: "stalled: its heartbeats are late",
  hung: "hung: no output and no tool call; nudged",
  dead: "dead: its run went silent",
};

/** The attention list of one rig: at most `limit` items, worst first (see rankOf). */
export function attentionItems(input: AttentionInput, limit: number = LIMITS.attentionItems): AttentionItem[] {
  const top = new TopK<Ranked>(limit, compareRanked);
  // Troubled agents are kept apart, so that failed beads and escalations cannot crowd them out.
  const troubled = new TopK<Ranked>(Math.min(limit, AGENT_PLACES), compareRanked);
  const offer = (rank: number, fields: AttentionItem) => top.offer({ rank, item: item(fields) });
  const { rig } = input;
  if (rig.status === "error") {
    offer(RANK.rig_error, { kind: "rig_error", id: rig.id, title: rig.name, detail: rig.error || "the container cannot serve this rig", at: rig.errorAt ?? 0 });
  }
  if (input.hold) {
    offer(RANK.budget, { kind: "budget", id: rig.id, title: rig.name, detail: `no new run starts: ${input.hold.reason}`, at: input.hold.since });
  }
  for (const bead of input.beads) {
    if (bead.status !== "failed") continue;
    offer(RANK.failed_bead, { kind: "failed_bead", id: bead.id, title: bead.title, detail: bead.failure ?? "failed", at: bead.updatedAt, beadId: bead.id });
  }
  for (const e of input.escalations) {
    if (e.status !== "open") continue;
    offer(RANK[e.severity], {
      kind: "escalation",
      id: e.id,
      title: e.title,
      detail: `${e.severity} from ${e.from}`,
      severity: e.severity,
      at: e.createdAt,
      ...(e.beadId ? { beadId: e.beadId } : {}),
    });
  }
  // Unread mail per polecat: it waits until the polecat's next run primes it.
  const unread = new Map<string, { count: number; oldest: number }>();
  for (const m of input.mail) {
    if (m.state !== "delivered" || isNudgeMail(m)) continue;
    const at = m.deliveredAt ?? m.sentAt;
    const seen = unread.get(m.to);
    unread.set(m.to, { count: (seen?.count ?? 0) + 1, oldest: Math.min(seen?.oldest ?? at, at) });
  }
  for (const agent of input.agents) {
    const since = agent.statusSince ?? agent.run?.since ?? agent.startedAt ?? 0;
    if (agent.status === "stalled" || agent.status === "hung" || agent.status === "dead") {
      const exit = agent.status === "dead" && agent.lastExit ? ` (${agent.lastExit})` : "";
      const fields = item({ kind: "agent", id: agent.identity, title: agent.identity, detail: `${TROUBLED[agent.status]}${exit}`, at: since });
      troubled.offer({ rank: RANK[agent.status], item: agent.run ? { ...fields, beadId: agent.run.bead } : fields });
    }
    // The witness and the refinery are the rig's own and read no mail: only a polecat that finished
    // (no run, so nothing primes it) leaves mail waiting.
    const waiting = agent.role === "polecat" && !agent.run && (agent.status === "idle" || agent.status === "dead") ? unread.get(agent.identity) : undefined;
    if (waiting) {
      offer(RANK.waiting_mail, {
        kind: "waiting_mail",
        id: agent.identity,
        title: agent.identity,
        detail: `${plural(waiting.count, "unread mail")}, waiting since its run ended`,
        at: waiting.oldest,
      });
    }
  }
  // The troubled agents' places first, the rest of the list the worst of everything else.
  const agents = troubled.sorted();
  return [...agents, ...top.sorted().slice(0, limit - agents.length)].sort(compareRanked).map((r) => r.item);
}

/**
 * The town's stuck convoys as attention items (kind `stuck_convoy`, id the convoy's): every bead
 * finished and at least one failed, so someone must retry, move or close the failed ones. The
 * detail names the failed beads (rig and id) so the item says what to act on; at most `limit`, the
 * most recently stuck first.
 */
export function convoyAttention(convoys: Iterable<Convoy>, limit: number = LIMITS.attentionItems): AttentionItem[] {
  const top = new TopK<Ranked>(limit, compareRanked);
  for (const c of convoys) {
    if (c.status !== "stuck") continue;
    const failed = c.beads.filter((b) => b.status === "failed");
    const names = failed.map((b) => `${b.rigName} ${b.beadId.slice(-8)}`).join(", ");
    top.offer({
      rank: RANK.stuck_convoy,
      item: item({
        kind: "stuck_convoy",
        id: c.id,
        title: c.title,
        detail: `stuck: ${failed.length} of ${c.beads.length} beads failed (${names})`,
        at: c.landedAt ?? c.createdAt,
        ...(failed.length === 1 ? { beadId: failed[0]!.beadId } : {}),
      }),
    });
  }
  return top.sorted().map((r) => r.item);
}

/** An item with its texts cut to their ceilings, any credentials in a URL in them hidden (the town document is read more widely than a rig's). */
function item(fields: AttentionItem): AttentionItem {
  return { ...fields, title: cut(redactUrls(fields.title), LIMITS.attentionTitle), detail: cut(redactUrls(fields.detail), LIMITS.attentionDetail) };
}

/** Every URL in `text` with its password or token replaced by `***` (a clone error quotes its URL). */
export function redactUrls(text: string): string {
  return text.replace(/[a-z][\w+.-]*:\/\/[^\s'"]+/gi, (url) => redactGitUrl(url));
}

export function cut(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** The best `k` of a stream under `compare`, without sorting the whole stream (a rig may hold thousands of failed beads). */
class TopK<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  offer(value: T): void {
    if (this.k <= 0) return;
    if (this.items.length === this.k && this.compare(value, this.items[this.k - 1]!) >= 0) return;
    let i = this.items.length;
    while (i > 0 && this.compare(value, this.items[i - 1]!) < 0) i--;
    this.items.splice(i, 0, value);
    if (this.items.length > this.k) this.items.pop();
  }

  sorted(): T[] {
    return [...this.items];
  }
}
