import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import * as awarenessProtocol from "y-protocols/awareness";
import { AWARENESS_NONE, encodeUpdateMessage, handleClientSyncMessage, MESSAGE_AWARENESS, MESSAGE_SYNC, wholeState } from "../../party/sync.ts";

function serverDoc(): Y.Doc {
  const doc = new Y.Doc();
  doc.getMap("beads").set("B1", { id: "B1", title: "first", status: "open" });
  doc.getMap("agents").set("a/polecats/toast", { status: "idle" });
  doc.getArray("events").push([{ id: "E1", kind: "rig", text: "created" }]);
  return doc;
}

/** A client frame: message type MESSAGE_SYNC followed by whatever `write` adds. */
function syncFrame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

function clientUpdate(): Uint8Array {
  const client = new Y.Doc();
  client.getMap("beads").set("EVIL", { id: "EVIL" });
  return Y.encodeStateAsUpdate(client);
}

/** Applies a server frame to `doc` the way a y-protocols client does. */
function applyServerFrame(doc: Y.Doc, message: Uint8Array): void {
  const decoder = decoding.createDecoder(message);
  expect(decoding.readVarUint(decoder)).toBe(MESSAGE_SYNC);
  syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), doc, "server");
}

describe("handleClientSyncMessage", () => {
  it("answers sync step 1 with a step 2 that reproduces the server document", () => {
    const server = serverDoc();
    const client = new Y.Doc();
    const outcome = handleClientSyncMessage(
      server,
      syncFrame((e) => syncProtocol.writeSyncStep1(e, client)),
    );
    expect(outcome.kind).toBe("reply");
    if (outcome.kind !== "reply") return;

    const decoder = decoding.createDecoder(outcome.message);
    expect(decoding.readVarUint(decoder)).toBe(MESSAGE_SYNC);
    expect(decoding.readVarUint(decoder)).toBe(syncProtocol.messageYjsSyncStep2);

    applyServerFrame(client, outcome.message);
    expect(client.getMap("beads").toJSON()).toEqual(server.getMap("beads").toJSON());
    expect(client.getMap("agents").toJSON()).toEqual(server.getMap("agents").toJSON());
    expect(client.getArray("events").toJSON()).toEqual([{ id: "E1", kind: "rig", text: "created" }]);
  });

  it("sends only what the client lacks after step 1 from a partly synced client", () => {
    const server = serverDoc();
    const client = new Y.Doc();
    Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
    server.getMap("beads").set("B2", { id: "B2", title: "second", status: "open" });
    const outcome = handleClientSyncMessage(
      server,
      syncFrame((e) => syncProtocol.writeSyncStep1(e, client)),
    );
    if (outcome.kind !== "reply") throw new Error(`expected reply, got ${outcome.kind}`);
    applyServerFrame(client, outcome.message);
    expect(client.getMap("beads").toJSON()).toEqual(server.getMap("beads").toJSON());
  });

  it("does not change the server document on step 1", () => {
    const server = serverDoc();
    const before = Y.encodeStateVector(server);
    handleClientSyncMessage(
      server,
      syncFrame((e) => syncProtocol.writeSyncStep1(e, new Y.Doc())),
    );
    expect(Y.encodeStateVector(server)).toEqual(before);
  });

  it("refuses a non-empty update message and leaves the document unchanged", () => {
    const server = serverDoc();
    const outcome = handleClientSyncMessage(
      server,
      syncFrame((e) => syncProtocol.writeUpdate(e, clientUpdate())),
    );
    expect(outcome).toEqual({ kind: "write-refused" });
    expect(server.getMap("beads").has("EVIL")).toBe(false);
  });

  it("refuses a non-empty sync step 2", () => {
    const client = new Y.Doc();
    client.getMap("beads").set("EVIL", { id: "EVIL" });
    const server = serverDoc();
    const outcome = handleClientSyncMessage(
      server,
      syncFrame((e) => syncProtocol.writeSyncStep2(e, client)),
    );
    expect(outcome).toEqual({ kind: "write-refused" });
    expect(server.getMap("beads").has("EVIL")).toBe(false);
  });

  it("ignores an empty update or step 2 (a provider with nothing to send)", () => {
    const empty = Y.encodeStateAsUpdate(new Y.Doc());
    expect(
      handleClientSyncMessage(
        serverDoc(),
        syncFrame((e) => syncProtocol.writeUpdate(e, empty)),
      ),
    ).toEqual({ kind: "ignored" });
    expect(
      handleClientSyncMessage(
        serverDoc(),
        syncFrame((e) => syncProtocol.writeSyncStep2(e, new Y.Doc())),
      ),
    ).toEqual({ kind: "ignored" });
  });

  it("keeps no awareness, and answers it with an awareness of no one that a provider applies as nothing", () => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(encoder, new Uint8Array([1, 2, 3]));
    expect(handleClientSyncMessage(serverDoc(), encoding.toUint8Array(encoder))).toEqual({ kind: "awareness" });

    // What a provider does with the answer (y-websocket's awareness handler): nothing changes.
    const provider = new awarenessProtocol.Awareness(new Y.Doc());
    provider.setLocalState({ user: "me" });
    const changes: unknown[] = [];
    provider.on("change", (c: unknown) => changes.push(c));
    const decoder = decoding.createDecoder(AWARENESS_NONE);
    expect(decoding.readVarUint(decoder)).toBe(MESSAGE_AWARENESS);
    awarenessProtocol.applyAwarenessUpdate(provider, decoding.readVarUint8Array(decoder), "room");
    expect(changes).toEqual([]);
    expect([...provider.getStates().keys()]).toEqual([provider.clientID]);
    provider.destroy();
  });

  it.each([
    ["empty frame", new Uint8Array([])],
    ["truncated varint", new Uint8Array([0xff])],
    ["unknown message type", new Uint8Array([2, 0, 0])],
    ["unknown sync type", new Uint8Array([MESSAGE_SYNC, 7, 0])],
    ["sync type missing", new Uint8Array([MESSAGE_SYNC])],
    ["payload length past the end", new Uint8Array([MESSAGE_SYNC, 0, 50, 1])],
    ["undecodable state vector", new Uint8Array([MESSAGE_SYNC, 0, 2, 0xff, 0xff])],
  ])("reports a bad frame: %s", (_name, frame) => {
    expect(handleClientSyncMessage(serverDoc(), frame).kind).toBe("bad-frame");
  });
});

describe("encodeUpdateMessage", () => {
  it("wraps a server update so a client applies it", () => {
    const server = serverDoc();
    const client = new Y.Doc();
    applyServerFrame(client, encodeUpdateMessage(Y.encodeStateAsUpdate(server)));
    expect(client.getMap("beads").toJSON()).toEqual(server.getMap("beads").toJSON());
  });
});

describe("the whole document's encoding", () => {
  it("is encoded once per version for fresh replicas, and again after the document changes", () => {
    const doc = serverDoc();
    const fresh = () => syncFrame((e) => syncProtocol.writeSyncStep1(e, new Y.Doc()));
    const first = handleClientSyncMessage(doc, fresh());
    const second = handleClientSyncMessage(doc, fresh());
    if (first.kind !== "reply" || second.kind !== "reply") throw new Error("expected replies");
    expect(second.message).toEqual(first.message);
    expect(wholeState(doc)).toBe(wholeState(doc)); // the same bytes, not encoded again
    const before = wholeState(doc);
    doc.getMap("beads").set("b2", { title: "after" });
    expect(wholeState(doc)).not.toBe(before);
    const third = handleClientSyncMessage(doc, fresh());
    if (third.kind !== "reply") throw new Error("expected a reply");
    const replica = new Y.Doc();
    const decoder = decoding.createDecoder(third.message);
    decoding.readVarUint(decoder);
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), replica, null);
    expect(replica.getMap("beads").toJSON()).toEqual(doc.getMap("beads").toJSON());
  });
});
