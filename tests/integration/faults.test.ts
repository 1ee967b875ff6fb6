/**
 * Faults on real `partykit dev`: a reconnect storm after a crash, a seeded malformed-frame fuzz, the
 * connection cap, and tools called by the wrong role over a socket. (Expired, forged and other-town
 * tokens are in auth.test.ts; the SIGKILL burst of acked mail is in crash.test.ts.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import type { DocReplica } from "../../client/doc-sync.ts";
import type { ToolSocket } from "../../client/tools.ts";
import { CLOSE, LIMITS, type Bead, type Rig } from "../../party/protocol.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { fails, makeTown, until, type TestTown } from "../helpers/town.ts";

const SECRET = "faults-test-secret-0123456789";
const servers: { server: DevServer; dir: string }[] = [];
const towns: TestTown[] = [];

afterEach(async () => {
  for (const t of towns.splice(0)) t.closeAll();
  for (const { server, dir } of servers.splice(0)) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function ownServer(vars: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "townhall-faults-"));
  const server = await startPartykit({ persistDir: dir, vars: { GT_SECRET: SECRET, ...vars } });
  const entry = { server, dir };
  servers.push(entry);
  return entry;
}

async function town(host: string, secret: string) {
  const t = await makeTown(host, secret, "faults");
  towns.push(t);
  return t;
}

/** The first of: the socket's hello, or its first close. */
function firstOutcome(socket: ToolSocket): Promise<{ hello: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const off = socket.onHello(() => (off(), resolve({ hello: true, code: null })));
    socket.socket.addEventListener("close", (e: CloseEvent) => (off(), resolve({ hello: false, code: e.code })), { once: true });
  });
}

/** Largest number of instants within any `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("reconnect storm after a crash", () => {
  it("30 agents and 5 dashboards come back after SIGKILL + restart: re-helloed, re-synced with the acked content, spread out in time", async () => {
    const { server, dir } = await ownServer();
    const t = await town(server.host, SECRET);
    const rig = await t.addRig("alpha");
    const polecats = await Promise.all(Array.from({ length: 30 }, (_, i) => t.polecat(rig, `p${i}`)));
    const agents = polecats.map((p) => t.agentSocket(rig, p.token));
    const dashboards: { replica: DocReplica; party: "main" | "rig" }[] = [
      ...Array.from({ length: 4 }, () => ({ replica: t.replica("rig", t.rigRoom(rig)), party: "rig" as const })),
      { replica: t.replica("main", t.town), party: "main" },
    ];
    await Promise.all([...agents.map((a) => a.ready), ...dashboards.map((d) => d.replica.whenSynced())]);
    // Acked just before the crash: every dashboard must show it afterwards.
    const bead = await t.rigCall<Bead>(rig, "gt_bead_create", { title: "acked before the crash" });

    const opens: number[] = [];
    const back: Promise<unknown>[] = [];
    for (const a of agents) {
      a.socket.addEventListener("open", () => opens.push(performance.now()), { once: true });
      back.push(
        new Promise<void>((resolve) => {
          const off = a.onHello(() => (off(), resolve()));
        }),
      );
    }
    for (const { replica, party } of dashboards) {
      replica.socket.addEventListener("open", () => opens.push(performance.now()), { once: true });
      const wentDown = new Promise<void>((resolve) => {
        const off = replica.onChange((r) => r.status !== "live" && (off(), resolve()));
      });
      const holds = () =>
        party === "rig" ? replica.doc.getMap<Bead>("beads").get(bead.id)?.title === bead.title : replica.doc.getMap<Rig>("rigs").has(rig.id);
      back.push(
        wentDown.then(() =>
          until(
            (cb) => replica.onChange(cb),
            () => replica.status === "live" && holds(),
            30_000,
            "dashboard live again with its content",
          ),
        ),
      );
    }

    await server.kill();
    servers.splice(
      servers.findIndex((s) => s.server === server),
      1,
    );
    const restarted = await startPartykit({ persistDir: dir, port: server.port, vars: { GT_SECRET: SECRET } });
    servers.push({ server: restarted, dir });
    await Promise.all(back);

    expect(opens).toHaveLength(35);
    expect(dashboards.every((d) => d.replica.status === "live")).toBe(true);
    // Each client waits its own random 250–1000 ms before reconnecting: no thundering herd.
    expect(Math.max(...opens) - Math.min(...opens)).toBeGreaterThan(50);
    expect(maxInWindow(opens, 50)).toBeLessThanOrEqual(35 / 2);
    // And the agents work again.
    expect(await agents[0]!.call<{ at: number }>("gt_heartbeat")).toHaveProperty("at");
  });
});

describe("malformed-frame fuzz", () => {
  /** mulberry32: the fuzz is the same for the same seed. */
  function rng(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const int = (a: number, b: number) => a + Math.floor(next() * (b - a + 1));
    const text = (n: number) => Array.from({ length: n }, () => ' {}[]":,\\az09é中\n'[int(0, 15)]).join("");
    return { next, int, text };
  }

  type Frame = { data: string | Uint8Array; binary: boolean };

  function frame(r: ReturnType<typeof rng>, k: number): Frame {
    const call = JSON.stringify({ type: "call", id: `f${k}`, tool: "gt_mail_send", args: { to: "x/polecats/y", subject: r.text(20), body: r.text(50) } });
    switch (r.int(0, 8)) {
      case 0:
        return { data: r.text(r.int(0, 500)), binary: false };
      case 1:
        return { data: call.slice(0, r.int(1, call.length - 1)), binary: false };
      case 2:
        return { data: JSON.stringify({ type: "call", id: `f${k}`, tool: `gt_nope_${r.int(0, 1e6)}`, args: {} }), binary: false };
      case 3:
        return { data: JSON.stringify({ type: "call", id: `f${k}`, tool: "gt_escalate", args: { severity: r.text(3) } }), binary: false };
      case 4:
        return { data: ["null", "7", "[]", "{}", '{"type":"call"}', '{"type":"result"}'][r.int(0, 5)]!, binary: false };
      case 5:
      case 6: {
        const bytes = Uint8Array.from({ length: r.int(1, 300) }, () => r.int(0, 255));
        if (bytes[0] === 1) bytes[0] = 2; // type 1 is awareness, which the protocol ignores: not an offence
        return { data: bytes, binary: true };
      }
      case 7:
        return { data: "x".repeat(r.int(LIMITS.maxFrameBytes + 1, LIMITS.hardFrameBytes)), binary: false };
      default:
        return { data: "x".repeat(r.int(LIMITS.hardFrameBytes + 1, 1000 * 1000)), binary: false };
    }
  }

  /** An offender socket, reopened after each close; sends one frame and waits for what follows. */
  function offender(url: string, greeted = true) {
    let ws: WebSocket | null = null;
    let waiter: ((v: { error?: string; ok?: boolean; close?: number } | null) => void) | null = null;
    const open = () =>
      new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(url);
        ws = socket;
        // A document socket has no hello: it is ready once open.
        if (!greeted) socket.once("open", () => resolve());
        socket.on("message", (data, isBinary) => {
          if (isBinary) return (waiter?.({ ok: true }), (waiter = null));
          const f = JSON.parse(data.toString()) as { type: string; ok?: boolean; error?: { code: string } };
          if (f.type === "hello") return resolve();
          waiter?.(f.ok === false ? { error: f.error!.code } : { ok: true });
          waiter = null;
        });
        socket.on("close", (code) => {
          if (ws === socket) ws = null;
          waiter?.({ close: code });
          waiter = null;
          reject(new Error(`closed ${code} before hello`));
        });
      });
    return {
      async send(f: Frame) {
        if (!ws) await open();
        const answer = new Promise<{ error?: string; ok?: boolean; close?: number } | null>((resolve) => {
          waiter = resolve;
          setTimeout(() => waiter === resolve && ((waiter = null), resolve(null)), 5000); // bound, not a pause
        });
        ws!.send(f.data, { binary: f.binary });
        return answer;
      },
      close: () => (ws as WebSocket | null)?.close(),
    };
  }

  it.each([11, 12])("seed %i: 500 frames each get a typed error or a typed close; the server stays up; a bystander's calls all succeed", async (seed) => {
    console.log(`fuzz seed ${seed}`);
    const host = inject("partykitHost");
    const t = await town(host, inject("gtSecret"));
    const rig = await t.addRig("alpha");
    const bad = await t.polecat(rig, "bad");
    const good = await t.polecat(rig, "good");
    const bystander = t.agentSocket(rig, good.token);
    await bystander.ready;
    const url = (token: string, path = "") => `ws://${host}/parties/rig/${t.rigRoom(rig)}${path}?token=${token}`;

    let fuzzing = true;
    const calls = { ok: 0, failed: [] as string[] };
    const bystanding = (async () => {
      for (let k = 0; fuzzing; k++) {
        await bystander.call(k % 2 ? "gt_prime" : "gt_mail_check").then(
          () => calls.ok++,
          (e: Error) => calls.failed.push(e.message),
        );
      }
    })();

    const r = rng(seed);
    const frames = Array.from({ length: 500 }, (_, k) => frame(r, k));
    const outcomes: string[] = [];
    // Text frames at an agent's tool socket, binary ones at a viewer's document socket.
    const lanes = Array.from({ length: 4 }, () => ({ agent: offender(url(bad.token)), viewer: offender(url(t.viewer, "/docs/rig"), false) }));
    let next = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        while (next < frames.length) {
          const f = frames[next++]!;
          const a = await (f.binary ? lane.viewer : lane.agent).send(f);
          outcomes.push(a === null ? "no answer" : a.close !== undefined ? `close ${a.close}` : a.error ? `error ${a.error}` : "ok");
        }
      }),
    );
    fuzzing = false;
    await bystanding;
    lanes.forEach((l) => (l.agent.close(), l.viewer.close()));

    const typed = /^(error (BAD_FRAME|INVALID_ARGS|UNKNOWN_TOOL|TOO_LARGE|FORBIDDEN)|close (4400|4403|4413))$/;
    expect(outcomes).toHaveLength(500);
    expect(outcomes.filter((o) => !typed.test(o))).toEqual([]);
    expect(outcomes.some((o) => o === "close 4413")).toBe(true);
    expect(outcomes.some((o) => o === "error TOO_LARGE")).toBe(true);
    expect(calls.failed).toEqual([]);
    expect(calls.ok).toBeGreaterThan(10);
    // Up, and nothing the offenders sent was stored.
    const room = await fetch(`http://${host}/parties/rig/${t.rigRoom(rig)}`, { headers: { authorization: `Bearer ${t.operator}` } });
    expect(room.status).toBe(200);
    const doc = await t.replica("rig", t.rigRoom(rig)).whenSynced();
    expect(doc.getMap("mail").size).toBe(0);
    expect(doc.getMap("escalations").size).toBe(0);
  });
});

describe("connection cap", () => {
  it("a room at GT_MAX_CONNECTIONS refuses the next socket with 4429 ROOM_FULL, and accepts again once one leaves", async () => {
    const { server } = await ownServer({ GT_MAX_CONNECTIONS: "20" });
    const t = await town(server.host, SECRET);
    const rig = await t.addRig("alpha");
    const open = () => t.agentSocket(rig, t.operator);
    const sockets = Array.from({ length: 20 }, open);
    expect((await Promise.all(sockets.map(firstOutcome))).every((o) => o.hello)).toBe(true);

    const extra = open();
    expect(await firstOutcome(extra)).toEqual({ hello: false, code: CLOSE.ROOM_FULL });
    expect(CLOSE.ROOM_FULL).toBe(4429);
    extra.close(); // 4429 is not permanent: stop its retries

    const leaving = sockets.pop()!;
    const left = new Promise<void>((resolve) => leaving.socket.addEventListener("close", () => resolve(), { once: true }));
    leaving.close();
    await left;
    // Accepted now (a retry after a 4429 that raced the close is fine: the client reconnects by itself).
    const again = open();
    const hello = await again.ready;
    expect(hello.type).toBe("hello");
    expect(await again.call("gt_list_beads")).toEqual([]);
  });
});

describe("wrong role over a socket (tokens of the right town and rig)", () => {
  it("a viewer cannot open a tool socket (4403) nor call a tool over HTTP, and nothing is written", async () => {
    const t = await town(inject("partykitHost"), inject("gtSecret"));
    const rig = await t.addRig("alpha");
    const viewer = t.agentSocket(rig, t.viewer);
    await expect(viewer.ready).rejects.toThrow(/4403/);
    for (const [tool, args] of [
      ["gt_bead_create", { title: "by a viewer" }],
      ["gt_mail_send", { to: "operator", subject: "x", body: "" }],
      ["gt_agent_register", { name: "intruder" }],
    ] as const) {
      const error = await fails(t.rigCall(rig, tool, args, t.viewer));
      expect([tool, error.code]).toEqual([tool, "FORBIDDEN"]);
    }
    expect(await t.rigCall(rig, "gt_list_beads")).toEqual([]);
    expect((await t.rigCall<{ identity: string }[]>(rig, "gt_list_agents")).map((a) => a.identity)).not.toContain("alpha/polecats/intruder");
  });

  it("an agent's socket gets FORBIDDEN for container tools (clone ready, register, merge result) and changes nothing", async () => {
    const t = await town(inject("partykitHost"), inject("gtSecret"));
    const rig = await t.addRig("alpha");
    const toast = await t.polecat(rig, "toast");
    const bead = await t.rigCall<Bead>(rig, "gt_bead_create", { title: "not yours to merge" });
    const agent = t.agentSocket(rig, toast.token);
    expect((await agent.ready).role).toBe("agent");
    const calls = [
      ["gt_rig_ready", { disk_bytes: 1 }],
      ["gt_agent_register", { name: "intruder" }],
      ["gt_merge_result", { bead_id: bead.id, ok: true, merge_commit: "a".repeat(40) }],
      ["gt_agent_started", { as: toast.identity, bead_id: bead.id }],
    ] as const;
    for (const [tool, args] of calls) {
      const error = await fails(agent.call(tool, args));
      expect([tool, error.code]).toEqual([tool, "FORBIDDEN"]);
      expect(error.message).toMatch(/role agent/);
    }
    expect(agent.socket.readyState).toBe(WebSocket.OPEN);
    const doc = await t.replica("rig", t.rigRoom(rig)).whenSynced();
    expect(doc.getMap<{ status: string }>("meta").get("rig")?.status).toBe("cloning");
    expect(doc.getMap<Bead>("beads").get(bead.id)?.status).toBe("open");
    expect(doc.getMap("agents").has("alpha/polecats/intruder")).toBe(false);
  });
});
