/**
 * A thin, read-only Yjs sync layer over y-protocols (instead of y-partykit, whose storage grows
 * with every update while a dashboard stays connected). The room is the only writer:
 * clients send sync step 1 and receive step 2 and then live updates; any content a client tries to
 * push is refused.
 *
 * Lineages: a room's document is rebuilt from storage at every room start and after every
 * compacting rebuild, each time as a new lineage whose Y.Doc `clientID` is the lineage id (1, 2, 3…,
 * strictly increasing for the room's lifetime, see RecordDoc). Standard providers (y-websocket,
 * y-partykit) keep one Y.Doc across reconnects, so a replica may hold an older lineage's items; the
 * step 2 it gets then also deletes them all (a hand-over), and the replica equals the room's document.
 */
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;

export type SyncOutcome =
  | { kind: "reply"; message: Uint8Array }
  /** A sync step 1 that `mayReply` turned down: nothing was encoded. */
  | { kind: "sync-refused" }
  | { kind: "ignored" }
  /** A provider's awareness (presence): none is kept, but it is answered (see `AWARENESS_NONE`). */
  | { kind: "awareness" }
  | { kind: "write-refused" }
  /** A step 1 from a replica that holds items no lineage of this room wrote: it must start afresh. */
  | { kind: "diverged"; reason: string }
  | { kind: "bad-frame"; reason: string };

export type HandOver = { kind: "hand-over"; stale: Map<number, number> } | { kind: "diverged"; client: number };

/**
 * Which of a replica's clients a step 2 deletes, from the replica's state vector (client id → clock).
 *
 * - A client the room's document has, at most as far as the room has it: the current lineage; the
 *   step 2 sends what the replica lacks of it.
 * - A client id 1 ≤ c < lineage the document lacks: an earlier lineage of this document (before a
 *   restart or rebuild). Everything it wrote is gone from the room's document, so the step 2 deletes
 *   [0, clock) of it. This is sound because the current lineage's id is greater than every earlier
 *   one: Yjs orders conflicting items with the same origin by client id, so each item of the current
 *   lineage (written into a fresh document, origin null) integrates to the right of an earlier
 *   lineage's items for the same map key or array position, and so becomes the key's value.
 * - Anything else (an id ≥ the lineage the room has not got, a random id from before lineages, or
 *   more of the current lineage than the room wrote): the replica holds writes the room refused or
 *   never made. No step 2 can bring it to the room's document without deleting what it believes is
 *   its own, so it is refused, loudly, and must start a fresh Y.Doc.
 */
export function planHandOver(lineage: number, room: Map<number, number>, replica: Map<number, number>): HandOver {
  const stale = new Map<number, number>();
  for (const [client, clock] of replica) {
    if (clock <= 0) continue;
    const known = room.get(client);
    if (known !== undefined) {
      if (clock > known) return { kind: "diverged", client };
    } else if (client >= 1 && client < lineage) {
      stale.set(client, clock);
    } else {
      return { kind: "diverged", client };
    }
  }
  return { kind: "hand-over", stale };
}

/**
 * A Yjs update (format v1) with no structs and a delete set that deletes [0, clock) of each client:
 * 0 struct groups, then the delete set (client count; per client its id, 1 range, clock 0, length).
 */
export function deleteAllOf(clients: Map<number, number>): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, clients.size);
  for (const [client, clock] of clients) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, 0);
    encoding.writeVarUint(encoder, clock);
  }
  return encoding.toUint8Array(encoder);
}

/**
 * Decides what a client's binary frame means for a read-only document. A sync step 1 is answered
 * with the whole document (step 2) if `mayReply` agrees, asked before anything is encoded (and not
 * asked for a replica that cannot be answered: see `planHandOver`).
 */
export function handleClientSyncMessage(doc: Y.Doc, data: Uint8Array, mayReply: () => boolean = () => true): SyncOutcome {
  try {
    const decoder = decoding.createDecoder(data);
    const messageType = decoding.readVarUint(decoder);
    if (messageType === MESSAGE_AWARENESS) return { kind: "awareness" }; // no presence on live docs
    if (messageType !== MESSAGE_SYNC) return { kind: "bad-frame", reason: `unknown binary message type ${messageType}` };
    const syncType = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    if (syncType === syncProtocol.messageYjsSyncStep1) {
      // Decided before metering: a replica that cannot be answered costs no sync budget.
      const room = Y.decodeStateVector(Y.encodeStateVector(doc));
      const replica = Y.decodeStateVector(payload);
      const plan = planHandOver(doc.clientID, room, replica);
      if (plan.kind === "diverged") return { kind: "diverged", reason: "this replica holds writes the room refused: start a fresh Y.Doc" };
      if (!mayReply()) return { kind: "sync-refused" };
      const state = replica.size === 0 ? wholeState(doc) : Y.encodeStateAsUpdate(doc, payload);
      const update = plan.stale.size ? Y.mergeUpdates([state, deleteAllOf(plan.stale)]) : state;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep2);
      encoding.writeVarUint8Array(encoder, update);
      return { kind: "reply", message: encoding.toUint8Array(encoder) };
    }
    if (syncType === syncProtocol.messageYjsSyncStep2 || syncType === syncProtocol.messageYjsUpdate) {
      return isEmptyUpdate(payload) ? { kind: "ignored" } : { kind: "write-refused" };
    }
    return { kind: "bad-frame", reason: `unknown sync message type ${syncType}` };
  } catch {
    return { kind: "bad-frame", reason: "undecodable binary frame" };
  }
}

/**
 * The whole document encoded, kept until its next change: every fresh replica (a new dashboard, a
 * reconnect storm after a restart, each socket of a rebuilt document) gets the same bytes, which
 * would otherwise be encoded again for each (about 70 ms for a rig of 10,000 beads).
 */
const encodedWhole = new WeakMap<Y.Doc, Uint8Array>();
const watched = new WeakSet<Y.Doc>();

export function wholeState(doc: Y.Doc): Uint8Array {
  if (!watched.has(doc)) {
    watched.add(doc);
    doc.on("update", () => encodedWhole.delete(doc));
  }
  let state = encodedWhole.get(doc);
  if (!state) encodedWhole.set(doc, (state = Y.encodeStateAsUpdate(doc)));
  return state;
}

/** An update that changes nothing (a provider's reply to a step 1 when it has nothing). */
function isEmptyUpdate(update: Uint8Array): boolean {
  try {
    const decoded = Y.decodeUpdate(update);
    return decoded.structs.length === 0 && decoded.ds.clients.size === 0;
  } catch {
    return false;
  }
}

/**
 * An awareness message with no one in it. Live documents keep no presence, but y-websocket (and
 * y-partykit, its fork) closes a connection that received nothing for 30 s: on a quiet document that
 * was a reconnect and a sync every 30 s. Providers send their own awareness every 15 s; answering it
 * with this (3 bytes, which changes nothing in their awareness) keeps their connection open.
 */
export const AWARENESS_NONE = ((): Uint8Array => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, Uint8Array.of(0)); // an awareness update of 0 clients
  return encoding.toUint8Array(encoder);
})();

export function encodeUpdateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}
