/**
 * A thin, read-only Yjs sync layer over y-protocols (instead of y-partykit, whose storage grows
 * with every update while a dashboard stays connected). The room is the only writer:
 * clients send sync step 1 and receive step 2 and then live updates; any content a client tries to
 * push is refused.
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
  | { kind: "write-refused" }
  | { kind: "bad-frame"; reason: string };

/**
 * Decides what a client's binary frame means for a read-only document. A sync step 1 is answered
 * with the whole document (step 2) if `mayReply` agrees, asked before anything is encoded.
 */
export function handleClientSyncMessage(doc: Y.Doc, data: Uint8Array, mayReply: () => boolean = () => true): SyncOutcome {
  try {
    const decoder = decoding.createDecoder(data);
    const messageType = decoding.readVarUint(decoder);
    if (messageType === MESSAGE_AWARENESS) return { kind: "ignored" }; // no presence on live docs
    if (messageType !== MESSAGE_SYNC) return { kind: "bad-frame", reason: `unknown binary message type ${messageType}` };
    const syncType = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    if (syncType === syncProtocol.messageYjsSyncStep1) {
      if (!mayReply()) return { kind: "sync-refused" };
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeSyncStep2(encoder, doc, payload);
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

/** An update that changes nothing (a provider's reply to a step 1 when it has nothing). */
function isEmptyUpdate(update: Uint8Array): boolean {
  try {
    const decoded = Y.decodeUpdate(update);
    return decoded.structs.length === 0 && decoded.ds.clients.size === 0;
  } catch {
    return false;
  }
}

export function encodeUpdateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}
