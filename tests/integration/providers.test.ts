/**
 * Standard Yjs providers replicate the live documents correctly: y-websocket's WebsocketProvider
 * and y-partykit's provider keep ONE Y.Doc across reconnects, while the room's document is a new
 * lineage after every restart and rebuild (party/sync.ts `planHandOver`). After a dropped socket, a
 * rebuild (4205) and a server restart, each provider's replica equals a fresh sync of the room's
 * document; a provider that writes is closed 4403, then 4409 on every reconnect, never synced again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import YPartyKitProvider from "y-partykit/provider";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import { AWARENESS_NONE } from "../../party/sync.ts";
import type { DocReplica } from "../../client/doc-sync.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";

const SECRET = "providers-test-secret-0123456789";
const REBUILD_AFTER = 40;
const persistDir = mkdtempSync(join(tmpdir(), "townhall-providers-"));
let server: DevServer;
const start = (port?: number) =>
  startPartykit({ persistDir, ...(port ? { port } : {}), vars: { GT_SECRET: SECRET, GT_TEST_HOOKS: "1", GT_REBUILD_AFTER: String(REBUILD_AFTER) } });

beforeAll(async () => {
  server = await start();
});
afterAll(async () => {
  await server?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

/** What the tests use of a provider (both are y-websocket's WebsocketProvider underneath). */
type Provider = {
  doc: Y.Doc;
  synced: boolean;
  ws: { terminate(): void } | null; // a `ws` WebSocket (WebSocketPolyfill)
  on(event: string, listener: (...args: any[]) => void): void;
  off(event: string, listener: (...args: any[]) => void): void;
  connect(): void;
  destroy(): void;
};
type Address = { host: string; party: "main" | "rig"; room: string; doc: "town" | "scope" | "rig" | "mail"; token: string };

const PROVIDERS: Record<string, (address: Address, doc: Y.Doc) => Provider> = {
  // The URL is `${serverUrl}/${roomname}?${params}`: the room's docs path, then the document's name.
  "y-websocket": ({ host, party, room, doc, token }, ydoc) =>
    new WebsocketProvider(`ws://${host}/parties/${party}/${room}/docs`, doc, ydoc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token },
      disableBc: true, // tabs of one browser share updates; in one Node process, providers would too
    }) as unknown as Provider,
  // `prefix` replaces `/parties/<party>/<room>`; the provider adds `?_pk=<id>&token=…`.
  "y-partykit": ({ host, party, room, doc, token }, ydoc) =>
    new YPartyKitProvider(host, room, ydoc, {
      prefix: `/parties/${party}/${room}/docs/${doc}`,
      params: { token },
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    }) as unknown as Provider,
};

/** Every root type's content; roots left empty (e.g. by a hand-over) are left out. */
function contentOf(doc: Y.Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [...doc.share.keys()].sort()) {
    const value = name === "events" ? doc.getArray(name).toJSON() : doc.getMap(name).toJSON();
    if (Array.isArray(value) ? value.length : Object.keys(value).length) out[name] = value;
  }
  return out;
}

function event<T extends unknown[]>(p: Provider, name: string, match: (...args: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (p.off(name, on), reject(new Error(`no ${name} event in ${timeoutMs} ms`))), timeoutMs);
    const on = (...args: T) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      p.off(name, on);
      resolve(args);
    };
    p.on(name, on);
  });
}

/**
 * Resolves once the provider is synced and its replica equals a fresh sync of the room's document
 * (client/doc-sync.ts, a fresh Y.Doc per connection), checked on every update of either.
 */
async function converged(town: TestTown, address: Address, p: Provider, timeoutMs = 30_000, as = town.operator): Promise<Record<string, unknown>> {
  const reference: DocReplica = town.replica(address.party, address.room, as, address.doc);
  try {
    return await new Promise((resolve, reject) => {
      let refDoc: Y.Doc | null = null;
      let last = "";
      const check = () => {
        if (reference.doc !== refDoc) {
          refDoc?.off("update", check);
          refDoc = reference.doc;
          refDoc.on("update", check);
        }
        if (!p.synced || !reference.synced) return;
        const [mine, theirs] = [contentOf(p.doc), contentOf(reference.doc)];
        last = `provider ${JSON.stringify(mine)}\nroom     ${JSON.stringify(theirs)}`;
        if (isDeepStrictEqual(mine, theirs)) finish(() => resolve(theirs));
      };
      const finish = (then: () => void) => {
        clearTimeout(timer);
        offReference();
        refDoc?.off("update", check);
        p.doc.off("update", check);
        p.off("sync", check);
        then();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`replica not equal to the room in ${timeoutMs} ms:\n${last}`))), timeoutMs);
      const offReference = reference.onChange(check);
      p.doc.on("update", check);
      p.on("sync", check);
      check();
    });
  } finally {
    reference.close();
  }
}

const lineagesOf = (doc: Y.Doc) => [...Y.decodeStateVector(Y.encodeStateVector(doc)).keys()].sort((a, b) => a - b);

describe.each(Object.keys(PROVIDERS))("%s", (name) => {
  const connect = PROVIDERS[name]!;

  it("replicates a town and a rig document through reconnects, rebuilds and a restart", async () => {
    const town = await makeTown(server.host, SECRET, "prov");
    const alpha = await town.addRig("alpha");
    const beta = await town.addRig("beta");
    const toast = await town.polecat(alpha, "toast");
    const maple = await town.polecat(beta, "maple");
    const townAt: Address = { host: server.host, party: "main", room: town.town, doc: "town", token: town.viewer };
    const rigAt: Address = { host: server.host, party: "rig", room: town.rigRoom(beta), doc: "rig", token: town.viewer };
    const townDoc = new Y.Doc();
    const rigDoc = new Y.Doc();
    const providers = [connect(townAt, townDoc), connect(rigAt, rigDoc)];
    const [townProvider, rigProvider] = providers as [Provider, Provider];
    try {
      await Promise.all(providers.map((p) => (p.synced ? null : event(p, "sync", (s: boolean) => s))));
      await converged(town, townAt, townProvider);
      await converged(town, rigAt, rigProvider);

      let n = 0;
      /** Mail (from alpha), beads and feed events in beta, and so beta's summary in the town document. */
      const changes = async (count: number) => {
        const bead = await town.rigCall<{ id: string }>(beta, "gt_bead_create", { title: `work ${n}` });
        for (let i = 0; i < count; i++, n++) {
          await town.rigCall(alpha, "gt_mail_send", { to: maple.identity, subject: `mail ${n}`, body: "" }, toast.token);
          await town.rigCall(beta, "gt_bead_update", { bead_id: bead.id, status: (["closed", "failed", "open"] as const)[n % 3], title: `work ${n}` });
        }
      };

      // (a) A dropped socket while the room changes: a plain reconnect, the diff only.
      const dropped = event(rigProvider, "connection-close");
      const resynced = event(rigProvider, "sync", (s: boolean) => s);
      rigProvider.ws!.terminate(); // a dropped connection (close() would wait for the closing handshake)
      await Promise.all([dropped, changes(3)]);
      await resynced;
      await converged(town, rigAt, rigProvider);
      await converged(town, townAt, townProvider);
      expect(lineagesOf(rigDoc)).toHaveLength(1);

      // (b) Rebuilds: past GT_REBUILD_AFTER updates the room closes doc sockets 4205; each provider
      // reconnects with its old Y.Doc and gets the hand-over (the old lineage deleted).
      const rebuilt = event(rigProvider, "connection-close", (e: { code: number } | null) => e?.code === 4205);
      await changes(REBUILD_AFTER / 2);
      await rebuilt;
      await converged(town, rigAt, rigProvider);
      await changes(2);
      const content = await converged(town, rigAt, rigProvider);
      expect(lineagesOf(rigDoc).length).toBeGreaterThan(1); // the same Y.Doc holds the old lineage, deleted
      expect(content.events).toBeDefined();

      // (c) A restart on the same storage: every document is a new lineage.
      const closedByStop = Promise.all(providers.map((p) => event(p, "connection-close")));
      await server.stop();
      await closedByStop;
      server = await start(server.port);
      town.closeAll();
      await changes(2);
      await converged(town, rigAt, rigProvider);
      await converged(town, townAt, townProvider);
      const before = lineagesOf(rigDoc).length;
      await changes(REBUILD_AFTER / 2); // and another rebuild after the restart
      await converged(town, rigAt, rigProvider);
      expect(lineagesOf(rigDoc).length).toBeGreaterThan(before);
    } finally {
      for (const p of providers) p.destroy();
      town.closeAll();
    }
  });

  it("replicates a convoy link's scope document (built per link) through a dropped socket and a rebuild", async () => {
    const town = await makeTown(server.host, SECRET, "scope");
    const alpha = await town.addRig("alpha");
    await town.addRig("beta");
    const convoy = await town.townCall<{ id: string; beads: { beadId: string; rigName: string }[] }>("gt_convoy_create", {
      title: "spans",
      beads: [
        { title: "a", rig: "alpha" },
        { title: "b", rig: "beta" },
      ],
    });
    const link = await town.townCall<{ token: string }>("gt_share", { path: `/t/${town.town}/convoys/${convoy.id}`, ttl_s: 600 });
    const at: Address = { host: server.host, party: "main", room: town.town, doc: "scope", token: link.token };
    const ydoc = new Y.Doc();
    const p = connect(at, ydoc);
    const bead = convoy.beads.find((b) => b.rigName === "alpha")!.beadId;
    const STATUSES = ["closed", "failed", "open"] as const;
    let n = 0;
    const changes = async (count: number) => {
      // Status changes reach the convoy (the town's convoy notices), so its part changes with each.
      for (let i = 0; i < count; i++, n++) await town.rigCall(alpha, "gt_bead_update", { bead_id: bead, status: STATUSES[n % 3] });
    };
    try {
      if (!p.synced) await event(p, "sync", (s: boolean) => s);
      expect(Object.keys((await converged(town, at, p, 30_000, link.token)).convoys as object)).toEqual([convoy.id]);
      // (a) Its only socket dropped: the part is dropped with it and built again, a new lineage, handed over.
      const resynced = event(p, "sync", (s: boolean) => s);
      p.ws!.terminate();
      await changes(2);
      await resynced;
      await converged(town, at, p, 30_000, link.token);
      expect(lineagesOf(ydoc).length).toBeGreaterThan(1);
      // (b) Past GT_REBUILD_AFTER changes of the part its sockets are closed 4205 and sync a fresh build.
      const rebuilt = event(p, "connection-close", (e: { code: number } | null) => e?.code === 4205);
      await changes(REBUILD_AFTER + 2);
      await rebuilt;
      await changes(1);
      const content = await converged(town, at, p, 30_000, link.token);
      const beads = (content.convoys as Record<string, { beads: { beadId: string; status: string }[] }>)[convoy.id]!.beads;
      expect(beads.find((b) => b.beadId === bead)!.status).toBe(STATUSES[(n - 1) % 3]);
    } finally {
      p.destroy();
      town.closeAll();
    }
  });

  it("a provider that writes is closed 4403, then 4409 on every reconnect, never synced; a fresh Y.Doc syncs", async () => {
    const town = await makeTown(server.host, SECRET, "provw");
    const alpha = await town.addRig("alpha");
    await town.rigCall(alpha, "gt_bead_create", { title: "read me" });
    const at: Address = { host: server.host, party: "rig", room: town.rigRoom(alpha), doc: "rig", token: town.operator };
    const writer = connect(at, new Y.Doc());
    const closes: number[] = [];
    let syncedAgain = false;
    try {
      if (!writer.synced) await event(writer, "sync", (s: boolean) => s);
      writer.on("connection-close", (e: { code: number } | null) => closes.push(e?.code ?? 0)); // null: closed by the provider itself
      const refused = event(writer, "connection-close", (e: { code: number } | null) => e?.code === 4403);
      writer.doc.getMap("beads").set("01JZZZZZZZZZZZZZZZZZZZZZZZ", { title: "forged" });
      await refused;
      writer.on("sync", (s: boolean) => (syncedAgain ||= s));
      // y-websocket stops at a 44xx close (its `closed` event) and reconnects when told to;
      // y-partykit's provider reconnects by itself.
      for (let i = 0; i < 2; i++) {
        const diverged = event(
          writer,
          "connection-close",
          (e: { code: number; reason: string } | null) => e?.code === 4409 && /start a fresh Y\.Doc/.test(e.reason),
        );
        if (name === "y-websocket") writer.connect();
        await diverged;
      }
      expect(closes.filter((c) => c === 4409).length).toBeGreaterThanOrEqual(2);
      expect(closes.filter((c) => c !== 4403 && c !== 4409)).toEqual([]);
      expect(syncedAgain).toBe(false);

      const fresh = connect(at, new Y.Doc());
      try {
        const content = await converged(town, at, fresh);
        expect(Object.values(content.beads as object).map((b: { title: string }) => b.title)).toEqual(["read me"]);
      } finally {
        fresh.destroy();
      }
    } finally {
      writer.destroy();
      town.closeAll();
    }
  });
});

describe("a quiet document's provider", () => {
  it("gets its awareness answered with an awareness of no one (providers close a connection silent for 30 s)", async () => {
    const town = await makeTown(server.host, SECRET, "aware");
    const socket = new WebSocket(`ws://${server.host}/parties/main/${town.town}/docs/town?token=${town.viewer}`);
    socket.binaryType = "nodebuffer";
    await new Promise((resolve, reject) => (socket.once("open", resolve), socket.once("error", reject)));
    try {
      // The provider's own awareness, as y-websocket sends it every 15 s.
      const mine = new awarenessProtocol.Awareness(new Y.Doc());
      mine.setLocalState({ user: "viewer" });
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 1);
      encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(mine, [mine.clientID]));
      const answered = new Promise<Buffer>((resolve) => socket.on("message", (data: Buffer) => data[0] === 1 && resolve(data)));
      socket.send(encoding.toUint8Array(encoder));
      expect(new Uint8Array(await answered)).toEqual(AWARENESS_NONE);
      mine.destroy();
    } finally {
      socket.close();
      town.closeAll();
    }
  });
});
