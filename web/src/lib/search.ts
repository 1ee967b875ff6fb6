/**
 * One search across what the dashboard holds: rigs and convoys (with their beads) from the town
 * document, the open rig's beads, agents and mail from its document, and the town's mail when it is
 * read. Pure: it takes those lists and a query and gives results grouped by kind, each with the page
 * it opens. What it could not search (other rigs' documents are not open) the caller says.
 */
import type { Agent, Bead, Convoy, Mail, Rig } from "../../../party/protocol.ts";

export type SearchKind = "bead" | "agent" | "mail" | "convoy" | "rig";
export const KIND_LABEL: Record<SearchKind, string> = { bead: "Beads", agent: "Agents", mail: "Mail", convoy: "Convoys", rig: "Rigs" };
const KIND_ORDER: SearchKind[] = ["bead", "agent", "mail", "convoy", "rig"];

export type SearchHit = { kind: SearchKind; key: string; title: string; detail: string; href: string };
export type SearchGroup = { kind: SearchKind; hits: SearchHit[]; more: number };

export type SearchSources = {
  town: string;
  rigs: Rig[];
  convoys: Convoy[];
  /** The rig whose document is open (its beads, agents, mail), if any. */
  open?: { rig: Rig; beads: Bead[]; agents: Agent[]; mail: Mail[] };
  /** The town's mail, when it was read (town-wide operators); null when not. */
  townMail: Mail[] | null;
};

/** Each kind shows at most this many hits; the rest are counted. */
export const PER_KIND = 8;

const has = (query: string, ...texts: (string | undefined)[]) => texts.some((t) => t !== undefined && t.toLowerCase().includes(query));

export function search(raw: string, s: SearchSources): SearchGroup[] {
  const q = raw.trim().toLowerCase();
  if (!q) return [];
  const base = `/t/${s.town}`;
  const hits: SearchHit[] = [];
  const seenBeads = new Set<string>();
  if (s.open) {
    const rigBase = `${base}/rigs/${s.open.rig.name}`;
    for (const b of s.open.beads)
      if (has(q, b.title, b.id, b.body)) {
        seenBeads.add(b.id);
        hits.push({
          kind: "bead",
          key: b.id,
          title: b.title,
          detail: `${s.open.rig.name} · ${b.status.replace("_", " ")} · ${b.id.slice(-6)}`,
          href: `${rigBase}/beads/${b.id}`,
        });
      }
    for (const a of s.open.agents)
      if (has(q, a.identity, a.name)) hits.push({ kind: "agent", key: a.identity, title: a.identity, detail: a.status, href: `${rigBase}/agents/${a.name}` });
    for (const m of s.open.mail) {
      if (!has(q, m.subject, m.body, m.from, m.to)) continue;
      // Mail has no page of its own: it opens the inbox of its recipient (or sender) in this rig.
      const agent = s.open.agents.find((a) => a.identity === m.to) ?? s.open.agents.find((a) => a.identity === m.from);
      hits.push({ kind: "mail", key: m.id, title: m.subject, detail: `${m.from} → ${m.to}`, href: agent ? `${rigBase}/agents/${agent.name}#inbox` : rigBase });
    }
  }
  for (const m of s.townMail ?? [])
    if (has(q, m.subject, m.body, m.from, m.to))
      hits.push({ kind: "mail", key: m.id, title: m.subject, detail: `${m.from} → ${m.to} (town mail)`, href: `${base}/mail` });
  for (const c of s.convoys) {
    if (has(q, c.title, c.id))
      hits.push({ kind: "convoy", key: c.id, title: c.title, detail: `${c.status} · ${c.beads.length} beads`, href: `${base}/convoys/${c.id}` });
    // A convoy's beads are in the town document with their titles, whatever rig they are in.
    for (const b of c.beads)
      if (!seenBeads.has(b.beadId) && has(q, b.title, b.beadId)) {
        seenBeads.add(b.beadId);
        hits.push({
          kind: "bead",
          key: b.beadId,
          title: b.title,
          detail: `${b.rigName} · ${b.status.replace("_", " ")} · in convoy ${c.title}`,
          href: `${base}/rigs/${b.rigName}/beads/${b.beadId}`,
        });
      }
  }
  for (const r of s.rigs) if (has(q, r.name)) hits.push({ kind: "rig", key: r.id, title: r.name, detail: "rig", href: `${base}/rigs/${r.name}` });
  return KIND_ORDER.map((kind) => {
    const all = hits.filter((h) => h.kind === kind);
    return { kind, hits: all.slice(0, PER_KIND), more: Math.max(0, all.length - PER_KIND) };
  }).filter((g) => g.hits.length > 0);
}

/** What a search did not look at, in words (null: it searched everything the town holds). */
export function notSearched(s: SearchSources): string | null {
  const parts: string[] = [];
  const others = s.rigs.filter((r) => r.id !== s.open?.rig.id).map((r) => r.name);
  if (others.length)
    parts.push(`beads (outside convoys), agents and mail of ${others.length === 1 ? "rig" : "rigs"} ${others.join(", ")}: open a rig to search it`);
  if (s.townMail === null) parts.push("the town's mail (for town-wide operators)");
  return parts.length ? `Not searched: ${parts.join("; ")}.` : null;
}
