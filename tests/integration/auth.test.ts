import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { signToken, verifyToken } from "../../party/auth.ts";
import { CLOSE, LIMITS, MAX_TOKEN_LIFETIME_S, type ShareResult } from "../../party/protocol.ts";
import { ToolSocket } from "../../client/tools.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";
import { fails } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

async function closeCode(room: { party: "main" | "rig"; room: string }, token: string): Promise<number> {
  const socket = new ToolSocket({ host, ...room, token, WebSocket });
  await socket.ready.catch(() => {});
  const code = socket.lastClose?.code ?? 0;
  socket.close();
  return code;
}

describe("auth", () => {
  it("refuses no token, a forged one and an expired one: HTTP 401 and WebSocket 4401", async () => {
    town = await makeTown(host, secret);
    const forged = await signToken({ role: "operator", town: town.town, exp: Math.floor(Date.now() / 1000) + 60 }, "not-the-secret-at-all");
    const expired = await town.token({ role: "operator", exp: Math.floor(Date.now() / 1000) - 1 });
    const tampered = town.operator.replace(/\.(.)/, (_m, c: string) => `.${c === "A" ? "B" : "A"}`);
    for (const token of ["", forged, expired, tampered, "garbage"]) {
      const error = await fails(town.townCall("gt_list_rigs", {}, token));
      expect([error.code, error.status]).toEqual(["UNAUTHORIZED", 401]);
      expect(await closeCode({ party: "main", room: town.town }, token)).toBe(4401);
    }
    const rigs = await town.townCall("gt_list_rigs");
    expect(rigs).toEqual([]);
  });

  it("a viewer token cannot call any tool", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    for (const tool of ["gt_list_rigs", "gt_rig_add", "gt_mail_check", "gt_mail_send"]) {
      const error = await fails(town.townCall(tool, {}, town.viewer));
      expect([tool, error.code, error.status]).toEqual([tool, "FORBIDDEN", 403]);
    }
    for (const tool of ["gt_list_beads", "gt_bead_create", "gt_mail_send", "gt_prime", "gt_agent_register"]) {
      const error = await fails(town.rigCall(a, tool, {}, town.viewer));
      expect([tool, error.code]).toEqual([tool, "FORBIDDEN"]);
    }
  });

  it("an agent of rig A cannot act in rig B, nor as another agent, nor in another town", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const b = await town.addRig("beta");
    const toast = await town.polecat(a, "toast");
    const birch = await town.polecat(a, "birch");
    const maple = await town.polecat(b, "maple");
    // In rig B's room with rig A's token: refused on HTTP and on the socket.
    const inB = await fails(town.rigCall(b, "gt_mail_check", {}, toast.token));
    expect([inB.code, inB.status]).toEqual(["FORBIDDEN", 403]);
    expect(await closeCode({ party: "rig", room: town.rigRoom(b) }, toast.token)).toBe(4403);
    // A token claiming rig A's id but rig B's identity.
    const crossed = await town.token({ role: "agent", rig: a.id, agent: maple.identity });
    expect((await fails(town.rigCall(a, "gt_prime", {}, crossed))).code).toBe("FORBIDDEN");
    // As another agent of its own rig.
    const asBirch = await fails(town.rigCall(a, "gt_mail_check", { as: birch.identity }, toast.token));
    expect([asBirch.code, asBirch.status]).toEqual(["FORBIDDEN", 403]);
    const sendAsBirch = await fails(town.rigCall(a, "gt_mail_send", { to: maple.identity, subject: "x", body: "", as: birch.identity }, toast.token));
    expect(sendAsBirch.code).toBe("FORBIDDEN");
    // Operator-only tools.
    expect((await fails(town.rigCall(a, "gt_bead_create", { title: "x" }, toast.token))).code).toBe("FORBIDDEN");
    // Another town's operator token.
    const other = await signToken({ role: "operator", town: "another-town", exp: Math.floor(Date.now() / 1000) + 60 }, secret);
    expect((await fails(town.townCall("gt_list_rigs", {}, other))).status).toBe(403);
    expect(await closeCode({ party: "main", room: town.town }, other)).toBe(4403);
    // Nothing above changed B's mail.
    expect(await town.rigCall(b, "gt_mail_check", {}, maple.token)).toEqual([]);
  });
});

describe("npm run token", () => {
  it("prints a token the rooms accept, signed with GT_SECRET", async () => {
    town = await makeTown(host, secret);
    const { execFileSync } = await import("node:child_process");
    const run = (args: string[]) =>
      execFileSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/token.ts", ...args], {
        env: { ...process.env, GT_SECRET: secret },
        encoding: "utf8",
      }).trim();
    const operator = run(["--role", "operator", "--town", town.town]);
    expect(await town.townCall("gt_list_rigs", {}, operator)).toEqual([]);
    const viewer = run(["--role", "viewer", "--town", town.town]);
    expect((await fails(town.townCall("gt_list_rigs", {}, viewer))).code).toBe("FORBIDDEN");
    expect(() => run(["--role", "agent", "--town", town.town])).toThrow(/agent tokens need --rig/);
  });

  it("refuses a --ttl over 30 days (the rooms would refuse the token), and makes one of exactly 30 days", async () => {
    town = await makeTown(host, secret);
    const { spawnSync } = await import("node:child_process");
    const run = (ttl: number) =>
      spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/token.ts", "--role", "operator", "--town", town.town, "--ttl", String(ttl)], {
        env: { ...process.env, GT_SECRET: secret },
        encoding: "utf8",
      });
    const tooLong = run(MAX_TOKEN_LIFETIME_S + 1);
    expect([tooLong.status, tooLong.stdout, tooLong.stderr.trim()]).toEqual([
      2,
      "",
      "token: --ttl may be at most 2592000 seconds (30 days): the rooms refuse longer-lived tokens",
    ]);
    // Checked as the gate checks it (an HTTP call after seconds of spawning can meet a keep-alive
    // connection the server just closed).
    const thirtyDays = await verifyToken(run(MAX_TOKEN_LIFETIME_S).stdout.trim(), secret);
    expect(thirtyDays.ok && thirtyDays.payload.exp - thirtyDays.payload.iat).toBe(MAX_TOKEN_LIFETIME_S);
  });
});

describe("gt_share", () => {
  it("mints an expiring viewer link to a view of this town: it syncs, but calls no tool", async () => {
    town = await makeTown(host, secret);
    const alpha = await town.addRig("alpha");
    const shared = await town.townCall<{ path: string; token: string; expiresAt: number }>("gt_share", { path: `/t/${town.town}/rigs/alpha`, ttl_s: 600 });
    expect(shared.path).toBe(`/t/${town.town}/rigs/alpha?token=${shared.token}`);
    expect(shared.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    // A rig link syncs its rig's document (the town's is not part of it: tests/integration/security.test.ts).
    await town.replica("rig", town.rigRoom(alpha), shared.token).whenSynced();
    expect((await fails(town.townCall("gt_list_rigs", {}, shared.token))).code).toBe("FORBIDDEN");
    expect((await fails(town.townCall("gt_share", { path: "/t/another-town", ttl_s: 600 }))).code).toBe("INVALID_ARGS");
    expect((await fails(town.townCall("gt_share", { path: `/t/${town.town}`, ttl_s: 600 }, shared.token))).code).toBe("FORBIDDEN");
  });
});

describe("sockets per principal", () => {
  /**
   * A document socket of the town room: "open" once the room answered its sync step 1 (it was
   * admitted), else its close code and reason. Admitted sockets stay open in `held`.
   */
  const held: WebSocket[] = [];
  afterEach(() => {
    for (const ws of held.splice(0)) ws.close();
  });
  const townDoc = (token: string) =>
    new Promise<{ code: number | "open"; reason: string }>((resolve) => {
      const ws = new WebSocket(`ws://${host}/parties/main/${town.town}/docs/town?token=${token}`);
      held.push(ws);
      ws.on("open", () => ws.send(new Uint8Array([0, 0, 1, 0]))); // sync step 1 of an empty document
      ws.once("message", () => resolve({ code: "open", reason: "" }));
      ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.on("error", () => {});
    });
  const openAll = async (n: number, token: string) => (await Promise.all(Array.from({ length: n }, () => townDoc(token)))).map((o) => o.code);

  it("a share link holds 64 sockets of a room: the 65th is closed 4429, saying so, while another link and a viewer still connect", async () => {
    town = await makeTown(host, secret);
    const share = () => town.townCall<ShareResult>("gt_share", { path: `/t/${town.town}`, ttl_s: 600 });
    const [team, other] = [await share(), await share()];
    expect(await openAll(LIMITS.socketsPerLink, team.token)).toEqual(Array(64).fill("open"));
    expect(await townDoc(team.token)).toEqual({ code: CLOSE.ROOM_FULL, reason: "this share link holds 64 sockets here already; at most 64 per share link" });
    expect((await townDoc(other.token)).code).toBe("open");
    expect((await townDoc(town.viewer)).code).toBe("open");
  });

  it("a viewer token holds 16 sockets of a room: the 17th is closed 4429, saying so, while another viewer token and a link still connect", async () => {
    town = await makeTown(host, secret);
    const mine = await town.token({ role: "viewer" });
    expect(await openAll(LIMITS.socketsPerViewer, mine)).toEqual(Array(16).fill("open"));
    expect(await townDoc(mine)).toEqual({ code: CLOSE.ROOM_FULL, reason: "this viewer token holds 16 sockets here already; at most 16 per viewer token" });
    expect((await townDoc(town.viewer)).code).toBe("open");
    const link = await town.townCall<ShareResult>("gt_share", { path: `/t/${town.town}`, ttl_s: 600 });
    expect((await townDoc(link.token)).code).toBe("open");
  });
});
