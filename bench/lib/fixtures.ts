/** Town set-up and load helpers shared by the metrics; the clients are the real ones (client/*.ts). */
import WebSocket from "ws";
import type * as Y from "yjs";
import { DocReplica } from "../../client/doc-sync.ts";
import { ToolSocket } from "../../client/tools.ts";
import { newId } from "../../party/ids.ts";
import type { Bead, Rig } from "../../party/protocol.ts";
import { makeTown, untilReplica, type TestTown } from "../../tests/helpers/town.ts";
import type { Rng } from "./rng.ts";
import { SECRET } from "./server.ts";

export { makeTown, untilReplica, type TestTown };

export function benchTown(host: string, prefix: string): Promise<TestTown> {
  return makeTown(host, SECRET, prefix);
}

export function toolSocket(town: TestTown, party: "main" | "rig", room: string, token: string): ToolSocket {
  return new ToolSocket({ host: town.host, party, room, token, WebSocket });
}

/** A replica of a room's document: the town's (or its `mail`), or the rig's. */
export function replica(
  town: TestTown,
  party: "main" | "rig",
  room: string,
  token = town.viewer,
  doc: "town" | "mail" | "rig" = party === "main" ? "town" : "rig",
): DocReplica {
  return new DocReplica({ host: town.host, party, room, token, WebSocket, doc });
}

/**
 * A viewer token of its own for one dashboard: M dashboards are M people, and one viewer token may
 * hold only LIMITS.socketsPerViewer sockets in a room (a bench sharing one would measure refusals).
 */
export function dashboardToken(town: TestTown): Promise<string> {
  return town.token({ role: "viewer" });
}

/** Opens `n` replicas `batch` at a time (each with its own viewer token unless `token` is given) and waits until each is synced. */
export async function openReplicas(town: TestTown, party: "main" | "rig", room: string, n: number, token?: string, batch = 50): Promise<DocReplica[]> {
  const out: DocReplica[] = [];
  for (let i = 0; i < n; i += batch) {
    const tokens = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => (token ? Promise.resolve(token) : dashboardToken(town))));
    const group = tokens.map((t) => replica(town, party, room, t));
    await Promise.all(group.map((r) => r.whenSynced()));
    out.push(...group);
  }
  return out;
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

export function beadArgs(rng: Rng, i: number, bodyChars = 200): { id: string; title: string; body: string; priority: Bead["priority"] } {
  const body = rng.words(Math.ceil(bodyChars / 6)).slice(0, bodyChars);
  return { id: newId(), title: `Bead ${i}: ${rng.words(5)}`.slice(0, 120), body, priority: rng.pick(["low", "medium", "high", "critical"] as const) };
}

/**
 * Creates `count` beads in a rig over `sockets` operator sockets with `window` calls in flight on
 * each; returns the created ids, the wall time and the errors.
 */
export async function createBeads(
  sockets: ToolSocket[],
  count: number,
  rng: Rng,
  window = 16,
  offset = 0,
): Promise<{ ids: string[]; ms: number; errors: number }> {
  const args = Array.from({ length: count }, (_, i) => beadArgs(rng, offset + i));
  let errors = 0;
  const t0 = performance.now();
  await pool(count, sockets.length * window, async (i) => {
    const socket = sockets[i % sockets.length]!;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await socket.call("gt_bead_create", args[i], 30_000);
        return;
      } catch {
        errors++; // retried with the same id: stored once
      }
    }
  });
  return { ids: args.map((a) => a.id), ms: performance.now() - t0, errors };
}

export async function operatorSockets(town: TestTown, rig: Rig, n: number): Promise<ToolSocket[]> {
  const sockets = Array.from({ length: n }, () => toolSocket(town, "rig", town.rigRoom(rig), town.operator));
  await Promise.all(sockets.map((s) => s.ready));
  return sockets;
}

export function closeAll(...groups: ({ close(): void } | { close(): void }[] | undefined)[]): void {
  for (const g of groups) {
    if (!g) continue;
    for (const s of Array.isArray(g) ? g : [g]) s.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The peer design's change-to-screen latency: the change waits for the next 5 s poll, then a full-list fetch. */
export function pollingLatencies(rng: Rng, n: number, fetchSamples: number[], periodMs = 5000): number[] {
  return Array.from({ length: n }, () => rng.next() * periodMs + rng.pick(fetchSamples));
}
