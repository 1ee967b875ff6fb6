/**
 * Documents a test writes, served to the dashboard in place of a room's: the page's document
 * socket (matched by URL) is answered here with the y-protocols sync a room speaks (sync step 2 for
 * its step 1, then each update), from a Y.Doc the test fills and changes. For views of data the
 * rooms do not write yet, or states hard to reach live (a day of spend, a budget reached).
 */
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import * as syncProtocol from "y-protocols/sync";
import type { Page } from "playwright-core";
import { BEAD_STATUSES, AGENT_STATUSES, type Rig, type RigSummary } from "../../party/protocol.ts";

const MESSAGE_SYNC = 0;

/** Answers every document socket of the page matching `url` from `doc`, live. */
export async function serveDoc(page: Page, url: RegExp, doc: Y.Doc): Promise<void> {
  await page.routeWebSocket(url, (ws) => {
    const onUpdate = (update: Uint8Array) => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, update);
      ws.send(Buffer.from(encoding.toUint8Array(encoder)));
    };
    doc.on("update", onUpdate);
    ws.onClose(() => doc.off("update", onUpdate));
    ws.onMessage((message) => {
      if (typeof message === "string") return;
      const decoder = decoding.createDecoder(new Uint8Array(message));
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
      const reply = encoding.createEncoder();
      encoding.writeVarUint(reply, MESSAGE_SYNC);
      syncProtocol.readSyncMessage(decoder, reply, doc, "stand-in");
      if (encoding.length(reply) > 1) ws.send(Buffer.from(encoding.toUint8Array(reply)));
    });
  });
}

/** A rig's registry entry with a summary: nothing at work unless `summary` says. */
export function rigRecord(id: string, name: string, summary: Partial<RigSummary> = {}): Rig {
  const now = Date.now();
  return {
    id,
    name,
    gitUrl: `/tmp/${name}.git`,
    defaultBranch: "main",
    capabilities: [],
    maxPolecats: 2,
    status: "ready",
    createdAt: now - 3_600_000,
    summary: {
      status: "ready",
      beads: Object.fromEntries(BEAD_STATUSES.map((s) => [s, 0])) as RigSummary["beads"],
      agents: Object.fromEntries(AGENT_STATUSES.map((s) => [s, 0])) as RigSummary["agents"],
      queuedMail: 0,
      lastActivity: now,
      diskBytes: null,
      updatedAt: now,
      attention: [],
      ...summary,
    },
  };
}
