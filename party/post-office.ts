/**
 * Mail handling shared by the town and rig rooms: send (stored at once
 * when the recipient is local, otherwise one hop tried now and the durable outbox after that),
 * receive (idempotent by mail id, with a push to the recipient), check, and the outbox's retries.
 * The rooms supply only what differs: where a hop goes, and how they write.
 */
import type { DurableOutbox } from "./durable-outbox.ts";
import { DurableOutbox as Outbox } from "./durable-outbox.ts";
import { acceptIncoming, markDelivered, markFailed, markRead, newMail, refusal, resend, unread } from "./mail.ts";
import type { Attempt, OutboxEntry } from "./outbox.ts";
import type { EventFrame, FeedEvent, Mail, MailSendResult } from "./protocol.ts";
import type { Change } from "./records.ts";

export type PostOfficeHost = {
  /** The document collection holding this room's mail. */
  collection: string;
  get(id: string): Mail | undefined;
  all(): Mail[];
  write(changes: Change[], events?: FeedEvent[], extra?: { put?: Record<string, unknown> }): Promise<void>;
  outbox(): DurableOutbox;
  feedEvent(kind: string, text: string): FeedEvent;
  pushEvent(identity: string, frame: EventFrame): void;
  /** One hop towards the recipient's room. */
  hop(mail: Mail): Promise<Attempt>;
};

/** Delay before the outbox's first retry of a mail whose direct hop failed. */
const FIRST_RETRY_MS = 250;

export class PostOffice {
  constructor(private readonly host: PostOfficeHost) {}

  private change(mail: Mail): Change {
    return { collection: this.host.collection, key: mail.id, value: mail };
  }

  /**
   * Sends a mail whose route the room has decided. A retried send (same id) answers as before.
   * Remote: the hop is tried now, so the sender learns at once whether the recipient exists; if the
   * hop fails, the mail and its outbox entry are stored in one write and the reply says queued.
   */
  async send(fields: Pick<Mail, "id" | "from" | "to" | "subject" | "body">, isLocal: () => boolean): Promise<MailSendResult> {
    const existing = this.host.get(fields.id);
    if (existing) return resend(existing, fields);
    const local = isLocal(); // may throw UNKNOWN_RECIPIENT: never for a retry of stored mail
    const now = Date.now();
    const mail = newMail(fields, now);
    const line = `${fields.from} → ${fields.to}: ${fields.subject}`;
    if (local) {
      await this.receive(mail);
      return { id: mail.id, state: "delivered" };
    }
    const attempt = await this.host.hop(mail).catch((error): Attempt => ({ kind: "retry", error: String(error) }));
    if (attempt.kind === "rejected") throw refusal(attempt.error);
    if (attempt.kind === "delivered") {
      await this.host.write([this.change(markDelivered(mail, Date.now()))], [this.host.feedEvent("mail", line)]);
      return { id: mail.id, state: "delivered" };
    }
    const entry: OutboxEntry = { key: mail.id, kind: "mail", payload: null, attempts: 1, createdAt: now, nextAttemptAt: now + FIRST_RETRY_MS, lastError: attempt.error };
    await this.host.write([this.change(mail)], [this.host.feedEvent("mail", `${line} (queued)`)], { put: { [Outbox.storageKey(mail.id)]: entry } });
    await this.host.outbox().added(entry);
    return { id: mail.id, state: "queued" };
  }

  /** Stores a mail for a local recipient, once, and pushes it to the recipient's sockets. */
  async receive(mail: Mail): Promise<void> {
    const { record, isNew } = acceptIncoming(this.host.get(mail.id), mail, Date.now());
    if (!isNew) return;
    await this.host.write([this.change(record)], [this.host.feedEvent("mail", `${mail.from} → ${mail.to}: ${mail.subject}`)]);
    this.host.pushEvent(record.to, { type: "event", event: "mail", mail: record });
  }

  /**
   * Unread mail of `identity`, oldest first. It stays unread until acknowledged (`ack`), so a reply
   * lost on its way hands the same mail (same ids) out again: at least once, never lost.
   */
  check(identity: string): Mail[] {
    return unread(this.host.all(), identity);
  }

  /** Marks these mails of `identity` read; ids that are unknown, someone else's or read already are skipped. */
  async ack(identity: string, ids: readonly string[]): Promise<{ acked: string[] }> {
    const now = Date.now();
    const read = [...new Set(ids)].flatMap((id) => {
      const mail = this.host.get(id);
      return mail && mail.to === identity && mail.state === "delivered" ? [markRead(mail, now)] : [];
    });
    if (read.length) await this.host.write(read.map((m) => this.change(m)));
    return { acked: read.map((m) => m.id) };
  }

  /** The outbox's retry of a queued mail. */
  attempt(entry: OutboxEntry): Promise<Attempt> {
    const mail = this.host.get(entry.key);
    return mail ? this.host.hop(mail) : Promise.resolve({ kind: "rejected", error: "mail record missing" });
  }

  /** The outbox's final word on a queued mail; a bounce reaches its sender like any mail event. */
  async settle(entry: OutboxEntry, outcome: Exclude<Attempt, { kind: "retry" }>): Promise<void> {
    const mail = this.host.get(entry.key);
    if (!mail) return;
    const next = outcome.kind === "delivered" ? markDelivered(mail, Date.now()) : markFailed(mail, outcome.error);
    const text = outcome.kind === "delivered" ? `queued mail ${mail.id.slice(-8)} delivered to ${mail.to}` : `mail to ${mail.to} failed: ${outcome.error}`;
    await this.host.write([this.change(next)], [this.host.feedEvent("mail", text)]);
    if (next.state === "failed") this.host.pushEvent(mail.from, { type: "event", event: "mail", mail: next });
  }
}
