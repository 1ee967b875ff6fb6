/**
 * A room's audit trail: who did what, each operator action one entry under its own storage key
 * (`audit:<seq>`), written in the same storage write as the action itself (the caller merges
 * `stage`'s puts into that write, then calls `commit`). Both rooms keep one: the rig room's store
 * (party/rig/store) for actions on its beads, agents, escalations and mail; the town room for
 * slings, convoys, rigs, budgets, links and town mail.
 *
 * Bounded: the last LIMITS.auditKept entries are kept; past that, each new entry drops the oldest
 * (gone, not archived), and a page says so (`dropped`). The kept entries are also held in memory
 * (loaded once at start), so reads are filters over an array, newest first, paged by `seq`.
 */
import { LIMITS, type AuditAction, type AuditEntry, type AuditPage, type AuditWho, type TokenPayload } from "./protocol.ts";
import type { KeyValueStorage } from "./records.ts";

const PREFIX = "audit:";
/** How many entries were dropped, ever: outside PREFIX, so listing the entries does not meet it. */
const DROPPED = "audit-dropped";

/** An entry before it is numbered and stamped. */
export type AuditDraft = Omit<AuditEntry, "seq" | "at" | "who">;

/** Who acts, as the token says it: never the token itself. */
export function auditWho(token: TokenPayload): AuditWho {
  return { role: token.role, sub: token.sub, jti: token.jti, ...(token.rig ? { rig: token.rig } : {}) };
}

export function auditKey(seq: number): string {
  return `${PREFIX}${String(seq).padStart(10, "0")}`;
}

/** A note left blank is none. */
export function withNote<T extends object>(draft: T, note: string | undefined): T & { note?: string } {
  const trimmed = note?.trim();
  return trimmed ? { ...draft, note: trimmed } : draft;
}

export type AuditFilter = { bead_id?: string; agent?: string; before?: number; limit?: number };

/**
 * One page of `entries` (oldest first, as kept), newest first: those before `before` (a seq) that
 * match the bead or agent asked for.
 */
export function auditPage(entries: readonly AuditEntry[], filter: AuditFilter, kept: number, dropped: boolean): AuditPage {
  const limit = Math.min(filter.limit ?? 50, LIMITS.auditPage);
  const page: AuditEntry[] = [];
  let older: number | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (filter.before !== undefined && entry.seq >= filter.before) continue;
    if (filter.bead_id !== undefined && entry.bead !== filter.bead_id) continue;
    if (filter.agent !== undefined && entry.agent !== filter.agent) continue;
    if (page.length === limit) {
      older = page[page.length - 1]!.seq;
      break;
    }
    page.push(entry);
  }
  return { entries: page, older, kept, dropped };
}

/** What `stage` hands the caller: the storage puts to add to its write, and what to do once it landed. */
export type Staged = { put: Record<string, AuditEntry>; commit(): Promise<void> };

export class AuditLog {
  /** The kept entries, oldest first. */
  private entries: AuditEntry[] = [];
  private next = 1;
  /** How many entries were dropped past the bound, ever (kept in storage beside them). */
  private dropped = 0;

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly kept: number = LIMITS.auditKept,
  ) {}

  async load(): Promise<void> {
    const stored = [...(await this.storage.list<AuditEntry>({ prefix: PREFIX })).values()].sort((a, b) => a.seq - b.seq);
    this.entries = stored;
    this.next = (stored.at(-1)?.seq ?? 0) + 1;
    this.dropped = (await this.storage.get<number>(DROPPED)) ?? 0;
    await this.trim();
  }

  /**
   * Numbers and stamps these entries, and returns the puts that store them: the caller writes them
   * with its action, then calls `commit` (the entries are readable from then on, and the oldest past
   * the bound are dropped). An action whose write failed leaves a gap in `seq`, nothing else.
   */
  stage(who: AuditWho, drafts: readonly AuditDraft[], now = Date.now()): Staged {
    const entries = drafts.map((d): AuditEntry => ({ seq: this.next++, at: now, who, ...d }));
    return {
      put: Object.fromEntries(entries.map((e) => [auditKey(e.seq), e])),
      commit: async () => {
        this.entries.push(...entries);
        this.entries.sort((a, b) => a.seq - b.seq);
        await this.trim();
      },
    };
  }

  page(filter: AuditFilter): AuditPage {
    return auditPage(this.entries, filter, this.kept, this.dropped > 0);
  }

  /** The oldest entries past the bound leave storage (and memory), counted so a page can say so. */
  private async trim(): Promise<void> {
    const excess = this.entries.length - this.kept;
    if (excess <= 0) return;
    const gone = this.entries.splice(0, excess);
    this.dropped += gone.length;
    await this.storage.put({ [DROPPED]: this.dropped });
    for (let i = 0; i < gone.length; i += 128) await this.storage.delete(gone.slice(i, i + 128).map((e) => auditKey(e.seq)));
  }
}
