/**
 * Mail handling shared by the town and rig rooms: send (stored at once when the recipient is
 * local, otherwise one hop tried now and the durable outbox after that), receive (idempotent by
 * mail id, with a push to the recipient), check and acknowledge, and the outbox's retries. The
 * rooms supply only what differs: where a hop goes, who is local, and how they write.
 *
 * Bounded whatever is sent: a long body is kept whole in room storage (`mailbody:<id>`) and the
 * document holds a preview and its size; each mailbox (a local recipient's inbox, or a local
 * sender's copies of what it sent away) keeps its last LIMITS.mailboxKept mails live, and older ones
 * move to storage (`mailarchive:<to|from>:<identity>:<id>`), where checks, acknowledgements and
 * reads still find them.
 */
import type { Staged } from "./audit.ts";
import type { DurableOutbox } from "./durable-outbox.ts";
import { DurableOutbox as Outbox } from "./durable-outbox.ts";
import { acceptIncoming, markDelivered, markFailed, markRead, newMail, refusal, resend, unread } from "./mail.ts";
import type { Attempt, OutboxEntry } from "./outbox.ts";
import { LIMITS, ToolError, type EventFrame, type FeedEvent, type FeedTone, type Mail, type MailSendResult } from "./protocol.ts";
import type { Change, KeyValueStorage } from "./records.ts";

export type PostOfficeHost = {
  /** The document collection holding this room's mail. */
  collection: string;
  storage: KeyValueStorage;
  get(id: string): Mail | undefined;
  all(): Mail[];
  write(changes: Change[], events?: FeedEvent[], extra?: { put?: Record<string, unknown>; delete?: string[] }): Promise<void>;
  outbox(): DurableOutbox;
  feedEvent(kind: string, text: string, about?: { tone?: FeedTone }): FeedEvent;
  pushEvent(identity: string, frame: EventFrame): void;
  /** One hop towards the recipient's room. */
  hop(mail: Mail): Promise<Attempt>;
  /** Whether an address's inbox is in this room. */
  isLocal(address: string): boolean;
  /** The feed line of a mail: the town's feed is read more widely than its mail, so it may leave the subject out. */
  feedLine(mail: Pick<Mail, "from" | "to" | "subject">): string;
};

/** Delay before the outbox's first retry of a mail whose direct hop failed. */
const FIRST_RETRY_MS = 250;

const encoder = new TextEncoder();

/** The document's copy of a mail: a preview and the size when the body is long (the whole body goes to storage). */
export function withPreview(mail: Mail): { record: Mail; put: Record<string, unknown> } {
  const bytes = encoder.encode(mail.body).byteLength;
  if (bytes <= LIMITS.longTextBytes || mail.bodyBytes !== undefined) return { record: mail, put: {} };
  return { record: { ...mail, body: mail.body.slice(0, LIMITS.previewChars), bodyBytes: bytes }, put: { [`mailbody:${mail.id}`]: mail.body } };
}

export class PostOffice {
  constructor(private readonly host: PostOfficeHost) {}

  private change(mail: Mail): Change {
    return { collection: this.host.collection, key: mail.id, value: mail };
  }

  /** The mailbox a record of this room belongs to: its recipient's, or (a copy of mail sent away) its sender's. */
  private boxOf(mail: Pick<Mail, "from" | "to">): string {
    return this.host.isLocal(mail.to) ? `to:${mail.to}` : `from:${mail.from}`;
  }

  /**
   * Stores mail records (with their long bodies, `extra` and feed lines) in one write, then moves
   * the oldest mail of each touched mailbox past LIMITS.mailboxKept out of the document.
   */
  private async store(mails: Mail[], events: FeedEvent[], extra: Record<string, unknown> = {}): Promise<Mail[]> {
    const put: Record<string, unknown> = { ...extra };
    const records = mails.map((mail) => {
      const { record, put: body } = withPreview(mail);
      Object.assign(put, body);
      return record;
    });
    await this.host.write(
      records.map((r) => this.change(r)),
      events,
      { put },
    );
    const boxes = new Set(records.map((r) => this.boxOf(r)));
    for (const box of boxes) await this.trim(box);
    return records;
  }

  private async trim(box: string): Promise<void> {
    const live = this.host.all().filter((m) => this.boxOf(m) === box);
    const excess = live.length - LIMITS.mailboxKept;
    if (excess <= 0) return;
    const oldest = live.sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, excess);
    await this.host.write(
      oldest.map((m) => ({ collection: this.host.collection, key: m.id, value: null })),
      [],
      // One key for the mail, one (`mailindex:<id>`) to find it by id alone.
      {
        put: Object.fromEntries(
          oldest.flatMap((m) => [
            [`mailarchive:${box}:${m.id}`, m],
            [`mailindex:${m.id}`, `mailarchive:${box}:${m.id}`],
          ]),
        ),
      },
    );
  }

  /** The whole body of a mail whose document copy is a preview. */
  private async full(mail: Mail): Promise<Mail> {
    if (mail.bodyBytes === undefined) return mail;
    const body = await this.host.storage.get<string>(`mailbody:${mail.id}`);
    const { bodyBytes: _size, ...rest } = mail;
    return body === undefined ? mail : { ...rest, body };
  }

  /**
   * Sends a mail whose route the room has decided. A retried send (same id) answers as before.
   * Remote: the hop is tried now, so the sender learns at once whether the recipient exists; if the
   * hop fails, the mail and its outbox entry are stored in one write and the reply says queued.
   */
  async send(fields: Pick<Mail, "id" | "from" | "to" | "subject" | "body">, isLocal: () => boolean, audit?: Staged): Promise<MailSendResult> {
    const existing = this.host.get(fields.id) ?? (await this.archived(fields.id));
    if (existing) return resend(await this.full(existing), fields);
    const local = isLocal(); // may throw UNKNOWN_RECIPIENT: never for a retry of stored mail
    const now = Date.now();
    const mail = newMail(fields, now);
    const result = await this.sendNew(mail, local, audit?.put ?? {});
    await audit?.commit(); // the sender's audit entry was stored with the mail
    return result;
  }

  private async sendNew(mail: Mail, local: boolean, extra: Record<string, unknown>): Promise<MailSendResult> {
    const now = mail.sentAt;
    if (local) {
      await this.receive(mail, extra);
      return { id: mail.id, state: "delivered" };
    }
    const attempt = await this.host.hop(mail).catch((error): Attempt => ({ kind: "retry", error: String(error) }));
    if (attempt.kind === "rejected") throw refusal(attempt.error);
    if (attempt.kind === "delivered") {
      await this.store([markDelivered(mail, Date.now())], [this.host.feedEvent("mail", this.host.feedLine(mail))], extra);
      return { id: mail.id, state: "delivered" };
    }
    const entry: OutboxEntry = {
      key: mail.id,
      kind: "mail",
      payload: null,
      attempts: 1,
      createdAt: now,
      nextAttemptAt: now + FIRST_RETRY_MS,
      lastError: attempt.error,
    };
    await this.store([mail], [this.host.feedEvent("mail", `${this.host.feedLine(mail)} (queued)`)], { ...extra, [Outbox.storageKey(mail.id)]: entry });
    await this.host.outbox().added(entry);
    return { id: mail.id, state: "queued" };
  }

  /** Stores a mail for a local recipient, once, and pushes it to the recipient's sockets. */
  async receive(mail: Mail, extra: Record<string, unknown> = {}): Promise<void> {
    const { record, isNew } = acceptIncoming(this.host.get(mail.id) ?? (await this.archived(mail.id)), mail, Date.now());
    if (!isNew) return;
    const [stored] = await this.store([record], [this.host.feedEvent("mail", this.host.feedLine(mail))], extra);
    this.host.pushEvent(record.to, { type: "event", event: "mail", mail: stored! });
  }

  /**
   * Unread mail of `identity`, oldest first, whole. It stays unread until acknowledged (`ack`), so
   * a reply lost on its way hands the same mail (same ids) out again: at least once, never lost.
   */
  async check(identity: string): Promise<Mail[]> {
    const live = unread(this.host.all(), identity);
    const stored = [...(await this.host.storage.list<Mail>({ prefix: `mailarchive:to:${identity}:` })).values()].filter((m) => m.state === "delivered");
    const all = [...stored, ...live].sort((a, b) => (a.id < b.id ? -1 : 1));
    // A page, not everything: whatever others sent, one reply stays bounded (LIMITS.mailPerCheck).
    const page: Mail[] = [];
    let bytes = 0;
    for (const mail of all.slice(0, LIMITS.mailPerCheck)) {
      const whole = await this.full(mail);
      bytes += whole.body.length + whole.subject.length;
      if (page.length > 0 && bytes > LIMITS.mailBytesPerCheck) break;
      page.push(whole);
    }
    return page;
  }

  /** One mail of `identity`'s (to or from it), whole, wherever it is kept. */
  async read(identity: string, id: string): Promise<Mail> {
    const mail = this.host.get(id) ?? (await this.archived(id));
    if (!mail || (mail.to !== identity && mail.from !== identity)) throw new ToolError("INVALID_ARGS", `no mail ${id} to or from ${identity}`);
    return this.full(mail);
  }

  /** Marks these mails of `identity` read; ids that are unknown, someone else's or read already are skipped. */
  async ack(identity: string, ids: readonly string[]): Promise<{ acked: string[] }> {
    const now = Date.now();
    const live: Mail[] = [];
    const put: Record<string, Mail> = {};
    for (const id of new Set(ids)) {
      const mail = this.host.get(id);
      if (mail) {
        if (mail.to === identity && mail.state === "delivered") live.push(markRead(mail, now));
        continue;
      }
      const key = `mailarchive:to:${identity}:${id}`;
      const stored = await this.host.storage.get<Mail>(key);
      if (stored?.state === "delivered") put[key] = markRead(stored, now);
    }
    if (live.length || Object.keys(put).length)
      await this.host.write(
        live.map((m) => this.change(m)),
        [],
        { put },
      );
    return { acked: [...live.map((m) => m.id), ...Object.values(put).map((m) => m.id)] };
  }

  /** A mail moved out of the document (any mailbox of this room). */
  private async archived(id: string): Promise<Mail | undefined> {
    const key = await this.host.storage.get<string>(`mailindex:${id}`);
    return key ? this.host.storage.get<Mail>(key) : undefined;
  }

  /** The outbox's retry of a queued mail: the whole mail goes on its way. */
  async attempt(entry: OutboxEntry): Promise<Attempt> {
    const mail = this.host.get(entry.key) ?? (await this.archived(entry.key));
    return mail ? this.host.hop(await this.full(mail)) : { kind: "rejected", error: "mail record missing" };
  }

  /** The outbox's final word on a queued mail; a bounce reaches its sender like any mail event. */
  async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    const mail = this.host.get(entry.key);
    if (!mail) return;
    const next = outcome.kind === "delivered" ? markDelivered(mail, Date.now()) : markFailed(mail, outcome.error);
    const text = outcome.kind === "delivered" ? `queued mail ${mail.id.slice(-8)} delivered to ${mail.to}` : `mail to ${mail.to} failed: ${outcome.error}`;
    await this.host.write([this.change(next)], [this.host.feedEvent("mail", text, { tone: next.state === "failed" ? "warn" : "info" })]);
    if (next.state === "failed") this.host.pushEvent(mail.from, { type: "event", event: "mail", mail: next });
  }
}
