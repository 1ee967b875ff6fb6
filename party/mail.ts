/** Mail decisions as pure functions over plain records. */
import { parseAddress, ToolError, type Address, type Agent, type Mail, type MailSendResult } from "./protocol.ts";

/** Where a mail goes from the room that holds the sender. */
export type Route =
  | { kind: "local" } // recipient lives in this room
  | { kind: "town" } // the town room stores it (mayor, operator) or relays it to another rig
  | { kind: "rig"; rigName: string }; // only the town routes to a rig directly

/**
 * Routes an address as seen from a rig room named `rigName`. A local recipient must be a known
 * agent of this rig: unknown agents are refused at once, never dropped.
 */
export function routeFromRig(to: string, rigName: string, agents: ReadonlyMap<string, Agent>): Route {
  const address = requireAddress(to);
  if (address.kind === "rig" && address.rig === rigName) {
    if (!agents.has(address.identity)) throw unknownRecipient(to, `rig ${rigName} has no agent ${address.identity}`);
    return { kind: "local" };
  }
  return { kind: "town" };
}

/** Routes an address as seen from the town room. */
export function routeFromTown(to: string): Route {
  const address = requireAddress(to);
  return address.kind === "town" ? { kind: "local" } : { kind: "rig", rigName: address.rig };
}

export function requireAddress(to: string): Address {
  const address = parseAddress(to);
  if (!address) throw new ToolError("INVALID_ARGS", `not a mail address: ${to}`);
  return address;
}

export function unknownRecipient(to: string, why: string): ToolError {
  return new ToolError("UNKNOWN_RECIPIENT", `unknown recipient ${to}: ${why}`);
}

/**
 * A send whose id is already stored: the same mail again (a retry after a lost reply) gets the same
 * answer; different mail under a used id is a conflict, never a silent drop.
 */
export function resend(existing: Mail, mail: Pick<Mail, "from" | "to" | "subject" | "body">): MailSendResult {
  if (existing.from !== mail.from || existing.to !== mail.to || existing.subject !== mail.subject || existing.body !== mail.body) {
    throw new ToolError("CONFLICT", `mail id ${existing.id} is already used by another mail`);
  }
  if (existing.state === "failed") throw new ToolError("UNKNOWN_RECIPIENT", existing.error ?? `unknown recipient ${existing.to}`);
  return { id: existing.id, state: existing.state === "queued" ? "queued" : "delivered" };
}

/** The error for a hop the next room refused: an unknown recipient, or the refusal as it was. */
export function refusal(error: string): ToolError {
  const known = error.match(/^(UNKNOWN_RECIPIENT|UNKNOWN_RIG): (.*)$/s);
  return known ? new ToolError("UNKNOWN_RECIPIENT", known[2]!) : new ToolError("INTERNAL", `mail refused on its way: ${error}`);
}

export function newMail(fields: { id: string; from: string; to: string; subject: string; body: string }, now: number): Mail {
  return { ...fields, sentAt: now, state: "queued" };
}

/**
 * Stores an arriving mail in the recipient's room. Idempotent by id: a retried delivery returns
 * the stored record and `isNew: false`, so the recipient's inbox holds it exactly once.
 */
export function acceptIncoming(existing: Mail | undefined, mail: Mail, now: number): { record: Mail; isNew: boolean } {
  if (existing) return { record: existing, isNew: false };
  const { error: _dropped, readAt: _unread, ...rest } = mail;
  return { record: { ...rest, state: "delivered", deliveredAt: now }, isNew: true };
}

/** Mail in the inbox of `identity` not yet handed to it, oldest first. */
export function unread(mail: Iterable<Mail>, identity: string): Mail[] {
  return [...mail].filter((m) => m.to === identity && m.state === "delivered").sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function markRead(mail: Mail, now: number): Mail {
  return { ...mail, state: "read", readAt: now };
}

export function markDelivered(mail: Mail, now: number): Mail {
  return { ...mail, state: "delivered", deliveredAt: now, error: undefined };
}

export function markFailed(mail: Mail, error: string): Mail {
  return { ...mail, state: "failed", error };
}
