/**
 * Least privilege and bounded cost, tried as an attacker would (one test per row of the hour-long
 * trial's findings), on a real `partykit dev` of its own with a small connection cap: nothing is
 * buffered or stored before auth, one admission rule for both rooms, share links that show one
 * view (listed, revoked), expiry and revocation on open sockets, per-token rate limits and bounded
 * documents, metered full syncs, a share of the room for viewers, git URLs checked and redacted.
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as Y from "yjs";
import { peekClaims, signInternal, signToken } from "../../party/auth.ts";
import { ToolSocket, callHttp } from "../../client/tools.ts";
import { CLOSE, LIMITS, type Mail, type Rig, type Agent, type ShareLink, type ShareResult, type TokenRefreshResult } from "../../party/protocol.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { fails, makeTown, workingAgent, type TestTown } from "../helpers/town.ts";

const SECRET = "security-test-secret-0123456789";
const MAX_CONNECTIONS = 20;
let server: DevServer;
let persistDir: string;
const towns: TestTown[] = [];

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "townhall-security-"));
  server = await startPartykit({ persistDir, vars: { GT_SECRET: SECRET, GT_MAX_CONNECTIONS: String(MAX_CONNECTIONS) } });
});
afterAll(async () => {
  await server.stop();
  rmSync(persistDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const t of towns.splice(0)) t.closeAll();
});

async function town(): Promise<TestTown> {
  const t = await makeTown(server.host, SECRET, "sec");
  towns.push(t);
  return t;
}

/** How a raw socket to `path` (with `token` in the query) ends: the close code, or "open". */
function socketOutcome(path: string, token: string | null, waitOpenMs = 3_000): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${server.host}${path}${token === null ? "" : `?token=${token}`}`);
    let opened = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    ws.on("open", () => {
      opened = true;
      timer = setTimeout(() => (ws.close(), resolve("open")), waitOpenMs);
    });
    ws.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve(opened && code === 1005 ? "open" : code);
    });
    ws.on("unexpected-response", (_req, res) => resolve(-res.statusCode!));
    ws.on("error", () => {});
  });
}

/** A document socket's path: the town's (or its mail), or a rig's. */
const docPath = (t: TestTown, which: "town" | "mail" | Rig) =>
  typeof which === "string" ? `/parties/main/${t.town}/docs/${which}` : `/parties/rig/${t.rigRoom(which)}/docs/rig`;

/** Synced document over its own socket, with a given token. */
async function synced(t: TestTown, which: "town" | "mail" | Rig, token: string): Promise<Y.Doc> {
  const replica = typeof which === "string" ? t.replica("main", t.town, token, which) : t.replica("rig", t.rigRoom(which), token, "rig");
  return replica.whenSynced();
}

/** The number of storage databases partykit dev keeps (one per room that stored anything). */
function storedRooms(): number {
  const walk = (dir: string): number =>
    readdirSync(dir).reduce((n, entry) => {
      const full = join(dir, entry);
      return n + (statSync(full).isDirectory() ? walk(full) : /\.sqlite$/.test(entry) ? 1 : 0);
    }, 0);
  return walk(persistDir);
}

describe("nothing before auth", () => {
  it("no token: HTTP 401 and a typed socket close, without starting rooms or storing anything, also for 2,000 random rooms", async () => {
    const t = await town();
    await t.addRig("alpha");
    const before = storedRooms();
    const ids = Array.from({ length: 2_000 }, (_, i) => `${t.town}.01J0000000000000000000${String(i).padStart(4, "0")}`);
    for (let i = 0; i < ids.length; i += 100) {
      const batch = await Promise.all(ids.slice(i, i + 100).map((id) => fetch(`http://${server.host}/parties/rig/${id}`).then((r) => r.status)));
      expect(new Set(batch)).toEqual(new Set([401]));
    }
    expect(storedRooms()).toBe(before);
    expect(await socketOutcome(`/parties/rig/${ids[0]}`, null)).toBe(CLOSE.UNAUTHORIZED);
    expect(await socketOutcome(`/parties/main/${t.town}`, "garbage")).toBe(CLOSE.UNAUTHORIZED);
    expect(
      await socketOutcome(
        `/parties/main/${t.town}/docs/town`,
        await signToken({ role: "viewer", town: t.town, exp: Math.floor(Date.now() / 1000) + 60 }, "another-secret-0123456789"),
      ),
    ).toBe(CLOSE.UNAUTHORIZED);
    expect(storedRooms()).toBe(before);
  });

  it("room-to-room routes take only a signature for that room, op, time and body", async () => {
    const t = await town();
    const url = `http://${server.host}/parties/main/${t.town}/internal/mail`;
    const body = JSON.stringify({ id: "01J00000000000000000000000", from: "a/witness", to: "mayor", subject: "forged", body: "", state: "delivered" });
    const post = (header: string | null, sent = body) =>
      fetch(url, { method: "POST", headers: header ? { "x-townhall-internal": header } : {}, body: sent }).then((r) => r.status);
    expect(await post(null)).toBe(401);
    expect(await post(await signInternal(SECRET, t.town, "wipe", body))).toBe(401); // signed for another op
    expect(await post(await signInternal(SECRET, `${t.town}x`, "mail", body))).toBe(401); // for another room
    expect(await post(await signInternal(SECRET, t.town, "mail", body, Date.now() - 10 * 60_000))).toBe(401); // too old
    expect(await post(await signInternal(SECRET, t.town, "mail", body), body.replace("forged", "FORGED"))).toBe(401); // another body
    expect(await post(await signInternal("another-secret-0123456789", t.town, "mail", body))).toBe(401);
    const mail = await t.townCall<Mail[]>("gt_mail_check", { as: "mayor" });
    expect(mail).toEqual([]);
  });

  it("an unauthenticated body, or an authenticated one past 64 KiB, is refused while it is still arriving (never buffered whole)", async () => {
    const t = await town();
    // A body far larger than anything the server may read: the server answers (or, since it does
    // not read the rest, resets the connection) long before it could have been buffered.
    const huge = 256 * 1024 * 1024;
    const endless = (path: string, headers: Record<string, string>) =>
      new Promise<{ outcome: number | "reset"; sentBytes: number }>((resolve) => {
        let sent = 0;
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port: server.port,
            path,
            method: "POST",
            headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...headers },
          },
          (res) => {
            resolve({ outcome: res.statusCode!, sentBytes: sent });
            res.resume();
            req.destroy();
          },
        );
        req.on("error", () => resolve({ outcome: "reset", sentBytes: sent }));
        const chunk = Buffer.alloc(64 * 1024, "x");
        const pump = () => {
          while (!req.destroyed && sent < huge) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once("drain", pump);
          }
          if (!req.destroyed) req.end();
        };
        pump();
      });
    for (const [path, headers, refusal] of [
      [`/parties/main/${t.town}/api/gt_mail_send`, {}, 401],
      [`/parties/main/${t.town}/internal/mail`, { "x-townhall-internal": "wrong" }, 401],
      [`/parties/main/${t.town}/api/gt_mail_send`, { authorization: `Bearer ${t.operator}` }, 413],
    ] as const) {
      const { outcome, sentBytes } = await endless(path, headers);
      expect([refusal, "reset"]).toContain(outcome);
      expect(sentBytes).toBeLessThan(32 * 1024 * 1024);
    }
    // A declared length over the limit is refused before anything is read.
    const declared = await fetch(`http://${server.host}/parties/main/${t.town}/api/gt_mail_send`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.operator}`, "content-length": String(LIMITS.maxFrameBytes + 1) },
      body: "x".repeat(LIMITS.maxFrameBytes + 1),
    });
    expect(declared.status).toBe(413);
    // And the room still answers.
    expect(await t.townCall("gt_list_rigs")).toEqual([]);
  });

  it("HTTP takes the token from the Authorization header only, not from ?token= (it would end up in logs)", async () => {
    const t = await town();
    const response = await fetch(`http://${server.host}/parties/main/${t.town}/api/gt_list_rigs?token=${t.operator}`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
  });
});

describe("rooms that do not exist", () => {
  it("a rig room the registry does not know is 404 / 4404 for any token and stores nothing; a rig added a moment ago is reachable at once, a removed one answers 4404", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const toast = await t.polecat(a, "toast");
    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/rigs/alpha`, ttl_s: 600 });
    const tokens = [t.viewer, link.token, toast.token]; // a viewer, a link, an agent
    // Ids no rig room can have, and well-formed rig ids the town never made.
    const ghosts = Array.from({ length: 50 }, (_, i) => (i % 2 ? `${t.town}.XYZ${i}` : `${t.town}.01J00000000000000000GH${String(i).padStart(4, "0")}`));
    const before = storedRooms();
    const sockets = await Promise.all(ghosts.map((id, i) => socketOutcome(`/parties/rig/${id}${i % 4 < 2 ? "/docs/rig" : ""}`, tokens[i % 3]!)));
    expect(new Set(sockets)).toEqual(new Set([CLOSE.GONE]));
    const calls = await Promise.all(
      ghosts.map(async (id, i) => {
        const [method, path] = i % 2 ? ["GET", "/docs/rig"] : ["POST", "/api/gt_list_beads"];
        const response = await fetch(`http://${server.host}/parties/rig/${id}${path}`, {
          method,
          headers: { authorization: `Bearer ${tokens[i % 3]}` },
          ...(method === "POST" ? { body: "{}" } : {}),
        });
        return [response.status, ((await response.json()) as { error: { code: string } }).error.code];
      }),
    );
    expect(new Set(calls.map((c) => c.join(" ")))).toEqual(new Set(["404 UNKNOWN_RIG"]));
    expect(storedRooms()).toBe(before);
    // Added a moment ago: reachable at once, by socket and over HTTP.
    const beta = await t.addRig("beta");
    expect((await synced(t, beta, t.viewer)).getMap("meta").size).toBe(1);
    expect(await t.rigCall(beta, "gt_list_beads")).toEqual([]);
    // Removed: its room answers 4404 (and HTTP 404), whatever the gate still remembers.
    await t.townCall("gt_rig_remove", { name: "beta" });
    expect(await socketOutcome(docPath(t, beta), t.viewer)).toBe(CLOSE.GONE);
    expect((await fails(t.rigCall(beta, "gt_list_beads"))).code).toBe("UNKNOWN_RIG");
    const info = await fetch(`http://${server.host}/parties/rig/${t.rigRoom(beta)}`, { headers: { authorization: `Bearer ${t.operator}` } });
    expect(info.status).toBe(404);
  });
});

describe("the secret", () => {
  it("is on no command line of partykit dev's processes: it reads it from a config file only its owner can read", () => {
    const group = readdirSync("/proc").filter((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        // Fields after the command's closing parenthesis: state, ppid, pgrp.
        return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop()!.split(" ")[2]) === server.process.pid;
      } catch {
        return false; // gone meanwhile
      }
    });
    const cmdlines = group.map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
    expect(cmdlines.some((args) => args.some((arg) => arg.endsWith("workerd")))).toBe(true);
    expect(cmdlines.filter((args) => args.join(" ").includes(SECRET) || args.includes("--var"))).toEqual([]);
    const dev = cmdlines.find((args) => args.includes("dev"))!;
    const config = dev[dev.indexOf("-c") + 1]!;
    expect(JSON.parse(readFileSync(config, "utf8")).vars.GT_SECRET).toBe(SECRET);
    expect([statSync(config).mode & 0o777, statSync(dirname(config)).mode & 0o777]).toEqual([0o600, 0o700]);
  });
});

describe("one admission rule for both rooms", () => {
  it("a rig-scoped viewer reads its rig and the town's registry, never the town's mail; a rig-scoped operator acts only on its rig; only a town-wide container gets the Mayor's token", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const b = await t.addRig("beta");
    const viewerA = await t.token({ role: "viewer", rig: a.id });
    expect((await synced(t, "town", viewerA)).getMap("rigs").size).toBe(2);
    expect(await socketOutcome(docPath(t, "mail"), viewerA)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, a), viewerA)).toBe("open");
    expect(await socketOutcome(docPath(t, b), viewerA)).toBe(CLOSE.FORBIDDEN);
    // Town mail is not in the town document any more: a plain viewer never sees it.
    await t.townCall("gt_mail_send", { to: "mayor", subject: "secret plans", body: "" });
    const viewerTown = await synced(t, "town", t.viewer);
    expect(viewerTown.share.has("mail")).toBe(false);
    expect(JSON.stringify(viewerTown.getArray("events").toJSON())).not.toContain("secret plans");
    expect(await socketOutcome(docPath(t, "mail"), t.viewer)).toBe(CLOSE.FORBIDDEN);

    const operatorA = await t.token({ role: "operator", rig: a.id });
    // Its town socket is not the operator's inbox: no identity, so no town mail events.
    const townSocket = new ToolSocket({ host: server.host, party: "main", room: t.town, token: operatorA, WebSocket });
    expect((await townSocket.ready).identity).toBeUndefined();
    townSocket.close();
    expect((await fails(t.townCall("gt_rig_update", { name: "beta", max_polecats: 5 }, operatorA))).code).toBe("FORBIDDEN");
    expect((await t.townCall<Rig>("gt_rig_update", { name: "alpha", max_polecats: 5 }, operatorA)).maxPolecats).toBe(5);
    expect((await fails(t.townCall("gt_mail_check", {}, operatorA))).code).toBe("FORBIDDEN");
    expect((await fails(t.townCall("gt_sling", { title: "x", rig: "beta" }, operatorA))).code).toBe("FORBIDDEN");
    expect((await fails(t.rigCall(b, "gt_list_beads", {}, operatorA))).code).toBe("FORBIDDEN");

    const containerA = await t.token({ role: "container", rig: a.id });
    expect((await fails(t.townCall("gt_mayor_token", {}, containerA))).code).toBe("FORBIDDEN");
    expect((await fails(t.rigCall(b, "gt_list_agents", {}, containerA))).code).toBe("FORBIDDEN");
    expect(await t.townCall<{ token: string }>("gt_mayor_token", {}, t.container)).toHaveProperty("token");
    // Viewers call no tool, and may not even open a tool socket.
    expect(await socketOutcome(`/parties/main/${t.town}`, t.viewer)).toBe(CLOSE.FORBIDDEN);
  });
});

describe("share links", () => {
  it("show one view: a bead link reads that rig and the registry, nothing else; paths are matched exactly; links are listed and revoked, closing their open pages", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const b = await t.addRig("beta");
    const bead = await t.rigCall<{ id: string }>(a, "gt_bead_create", { title: "share me" });
    for (const path of [`/t/${t.town}bet`, `/t/${t.town}/../other`, `/t/${t.town}/rigs/alpha/beads/nope`, `/t/${t.town}/rigs/alpha/files`, "/t/other"]) {
      expect((await fails(t.townCall("gt_share", { path, ttl_s: 600 }))).code).toBe("INVALID_ARGS");
    }
    expect((await fails(t.townCall("gt_share", { path: `/t/${t.town}/rigs/gamma`, ttl_s: 600 }))).code).toBe("UNKNOWN_RIG");
    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/rigs/alpha/beads/${bead.id}`, ttl_s: 600 });
    expect(link.view).toEqual({ kind: "bead", rig: a.id, bead: bead.id });
    expect(await socketOutcome(docPath(t, a), link.token)).toBe("open");
    expect(await socketOutcome(docPath(t, "town"), link.token)).toBe("open");
    expect(await socketOutcome(docPath(t, b), link.token)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, "mail"), link.token)).toBe(CLOSE.FORBIDDEN);

    const listed = await t.townCall<ShareLink[]>("gt_share_list");
    expect(listed.map((l) => [l.id, l.path])).toEqual([[link.id, `/t/${t.town}/rigs/alpha/beads/${bead.id}`]]);
    // Open pages on the link, in the town room and in the rig room, close when it is revoked.
    const closes = [docPath(t, a), docPath(t, "town")].map((path) => socketOutcome(path, link.token, 15_000));
    await new Promise((r) => setTimeout(r, 500)); // both sockets are open before the revocation
    await t.townCall("gt_share_revoke", { id: link.id });
    expect(await Promise.all(closes)).toEqual([CLOSE.UNAUTHORIZED, CLOSE.UNAUTHORIZED]);
    expect(await socketOutcome(docPath(t, a), link.token)).toBe(CLOSE.UNAUTHORIZED);
    expect((await t.townCall<ShareLink[]>("gt_share_list"))[0]!.revokedAt).toBeGreaterThan(0);
  });
});

describe("expiry on open sockets", () => {
  it("a socket is closed with 4401 when its token expires: an agent can no longer send, a link's page goes dark", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const toast = await t.polecat(a, "toast");
    const soon = Math.floor(Date.now() / 1000) + 2;
    const agentToken = await t.token({ role: "agent", rig: a.id, agent: toast.identity, exp: soon });
    const linkToken = await t.token({ role: "viewer", view: { kind: "town" }, exp: soon });
    const agent = new ToolSocket({ host: server.host, party: "rig", room: t.rigRoom(a), token: agentToken, WebSocket });
    await agent.ready;
    const closed = new Promise<number>((resolve) => agent.socket.addEventListener("close", (e: CloseEvent) => resolve(e.code), { once: true }));
    const page = socketOutcome(docPath(t, "town"), linkToken, 10_000);
    expect(await closed).toBe(CLOSE.UNAUTHORIZED);
    expect(await page).toBe(CLOSE.UNAUTHORIZED);
    agent.close();
  });
});

describe("token refresh", () => {
  it("renews a container's token and a current run's agent token (same claims, a later expiry, a new id); never an operator's, a link's or a finished run's", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const now = Math.floor(Date.now() / 1000);
    // Too early: a token is renewed in the second half of its life only.
    const young = await t.token({ role: "container", iat: now - 10, exp: now + 110 });
    expect((await fails(callHttp({ host: server.host, party: "main", room: t.town, token: young }, "gt_token_refresh"))).code).toBe("CONFLICT");
    const old = await t.token({ role: "container", iat: now - 90, exp: now + 30 });
    const renewed = await callHttp<TokenRefreshResult>({ host: server.host, party: "main", room: t.town, token: old }, "gt_token_refresh");
    const [before, after] = [peekClaims(old)!, peekClaims(renewed.token)!];
    expect({ ...after, iat: 0, exp: 0, jti: "" }).toEqual({ ...before, iat: 0, exp: 0, jti: "" });
    expect(after.jti).not.toBe(before.jti);
    expect(after.exp! - after.iat!).toBe(120); // the same lifetime, from now
    expect(after.exp!).toBeGreaterThan(before.exp!);
    expect(renewed.expiresAt).toBe(after.exp! * 1000);
    expect((await callHttp<Rig[]>({ host: server.host, party: "main", room: t.town, token: renewed.token }, "gt_list_rigs")).map((r) => r.name)).toEqual([
      "alpha",
    ]);

    const { bead, start } = await workingAgent(t, a);
    // The room mints a run's token for 24 h; one in the second half of such a life is renewed.
    const halfLived = await t.token({ role: "agent", rig: a.id, agent: start.identity, run: start.run, iat: now - 13 * 3600, exp: now + 11 * 3600 });
    expect((await fails(t.rigCall(a, "gt_token_refresh", {}, start.token))).code).toBe("CONFLICT");
    const agentRenewed = await t.rigCall<TokenRefreshResult>(a, "gt_token_refresh", {}, halfLived);
    expect(peekClaims(agentRenewed.token)).toMatchObject({ role: "agent", rig: a.id, agent: start.identity, run: start.run });
    // The operator fails the bead: the run is over, and so is its token's renewal.
    await t.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "failed" });
    expect((await fails(t.rigCall(a, "gt_token_refresh", {}, halfLived))).code).toBe("FORBIDDEN");
    // An agent token made for no run is never renewed.
    const runless = await t.token({ role: "agent", rig: a.id, agent: start.identity, iat: now - 13 * 3600, exp: now + 11 * 3600 });
    expect((await fails(t.rigCall(a, "gt_token_refresh", {}, runless))).code).toBe("FORBIDDEN");

    expect((await fails(t.townCall("gt_token_refresh"))).code).toBe("FORBIDDEN");
    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}`, ttl_s: 600 });
    expect((await fails(t.townCall("gt_token_refresh", {}, link.token))).code).toBe("FORBIDDEN");
  });
});

describe("runs that are over", () => {
  it("a process of a run that is over cannot act for the agent's next run (prime, checkpoint, mail)", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const { bead, start, epoch } = await workingAgent(t, a);
    // The run ends (its process died): the bead goes back and is dispatched again, a new run.
    await t.rigCall(a, "gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, epoch, code: 1 }, t.container);
    const agents = await t.rigCall<Agent[]>(a, "gt_list_agents");
    const next = agents.find((x) => x.identity === start.identity)?.run;
    expect(next?.id).toBeDefined();
    expect(next!.id).not.toBe(start.run);
    for (const [tool, args] of [
      ["gt_prime", {}],
      ["gt_checkpoint", { data: "overwrite" }],
      ["gt_mail_check", {}],
    ] as const) {
      expect((await fails(t.rigCall(a, tool, args, start.token))).code).toBe("FORBIDDEN");
    }
  });
});

describe("bounded cost per token and per room", () => {
  it("one token's flood of mail is rate limited (RATE_LIMITED, retry_after); others are not; long bodies are kept as previews; a mailbox keeps its last 200 live and the rest is still checked", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const body = "y".repeat(3_000); // past the 2 KiB preview bound
    const first = await t.polecat(a, "toast");
    let limited = 0;
    let retryAfter = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await t.rigCall(a, "gt_mail_send", { to: "operator", subject: `m${i}`, body }, first.token);
      } catch (error) {
        limited++;
        retryAfter = (error as { retryAfter?: number }).retryAfter ?? 0;
        expect((error as { code: string }).code).toBe("RATE_LIMITED");
      }
    }
    expect(limited).toBe(40 - 30);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // Another agent is not held back by the first one's flood.
    const other = await t.polecat(a, "maple");
    await t.rigCall(a, "gt_mail_send", { to: "operator", subject: "not me", body: "" }, other.token);
    // A fresh token for the same agent buys no fresh budget: limits count by who, not by token.
    const again = await t.token({ role: "agent", rig: a.id, agent: first.identity });
    expect((await fails(t.rigCall(a, "gt_mail_send", { to: "operator", subject: "again", body: "" }, again))).code).toBe("RATE_LIMITED");
    // More than a mailbox keeps, from several agents: the document keeps the last 200, with previews.
    for (let k = 0; k < 7; k++) {
      const sender = await t.polecat(a, `bulk-${k}`);
      await Promise.all(Array.from({ length: 30 }, (_, i) => t.rigCall(a, "gt_mail_send", { to: "operator", subject: `bulk ${k}-${i}`, body }, sender.token)));
    }
    const mailDoc = await synced(t, "mail", t.operator);
    const live = [...mailDoc.getMap<Mail>("mail").values()];
    expect(live.length).toBe(LIMITS.mailboxKept);
    expect(live.every((m) => m.body.length <= LIMITS.previewChars && (m.subject === "not me" || m.bodyBytes === 3_000))).toBe(true);
    expect(Y.encodeStateAsUpdate(mailDoc).byteLength).toBeLessThan(400 * 1024);
    // Every one of the 241 is still handed out, whole, a bounded page at a time, oldest first.
    const handedOut: Mail[] = [];
    for (;;) {
      const page = await t.townCall<Mail[]>("gt_mail_check");
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(LIMITS.mailPerCheck);
      handedOut.push(...page);
      await t.townCall("gt_mail_ack", { ids: page.map((m) => m.id) });
    }
    expect(handedOut.length).toBe(30 + 1 + 7 * 30);
    expect(handedOut.map((m) => m.id)).toEqual(handedOut.map((m) => m.id).sort());
    expect(handedOut.filter((m) => m.subject !== "not me").every((m) => m.body === body)).toBe(true);
  });

  it("escalations are rate limited per token and the document keeps its last 200", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const toast = await t.polecat(a, "toast");
    const outcomes = await Promise.allSettled(
      Array.from({ length: 15 }, (_, i) => t.rigCall(a, "gt_escalate", { title: `help ${i}`, severity: "low" }, toast.token)),
    );
    expect(outcomes.filter((o) => o.status === "rejected").length).toBe(15 - 10);
    for (let k = 0; k < 20; k++) {
      const sender = await t.polecat(a, `esc-${k}`);
      await Promise.all(Array.from({ length: 10 }, (_, i) => t.rigCall(a, "gt_escalate", { title: `bulk ${k}-${i}`, severity: "low" }, sender.token)));
    }
    const rig = await synced(t, a, t.operator);
    expect(rig.getMap("escalations").size).toBe(LIMITS.escalationsKept);
    await new Promise((r) => setTimeout(r, 600)); // the summary is pushed 250 ms after a change
    expect((await t.townCall<Rig>("gt_rig_status", { name: "alpha" })).summary.openEscalations).toBe(210);
  });

  it("viewers hold at most half of the room: the container, operators and agents still get in", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const viewers = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => socketOutcome(docPath(t, a), t.viewer, 8_000)));
    const opened = viewers.filter((v) => v === "open").length;
    expect(opened).toBeLessThanOrEqual(MAX_CONNECTIONS / 2);
    expect(viewers.filter((v) => v === CLOSE.ROOM_FULL).length).toBe(MAX_CONNECTIONS - opened);
  });

  it("one agent holds at most 16 sockets of a room, and agents and viewers together leave a tenth of it to the container and operators", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const toast = await t.polecat(a, "toast");
    const mine = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => socketOutcome(`/parties/rig/${t.rigRoom(a)}`, toast.token, 8_000)));
    expect(mine.filter((o) => o === "open").length).toBeLessThanOrEqual(LIMITS.socketsPerAgent);
    expect(mine.filter((o) => o !== "open").every((o) => o === CLOSE.ROOM_FULL)).toBe(true);
    // Many agents: they stop short of the reserve, and the container and an operator still get in.
    const agents = await Promise.all(Array.from({ length: 4 }, (_, i) => t.polecat(a, `crowd-${i}`)));
    const held: WebSocket[] = [];
    const outcomes: (number | "open")[] = [];
    for (const agent of agents) {
      for (let i = 0; i < 5; i++) {
        const ws = new WebSocket(`ws://${server.host}/parties/rig/${t.rigRoom(a)}?token=${agent.token}`);
        held.push(ws);
        ws.on("error", () => {});
        // Open for good once the hello arrived; refused sockets are accepted and closed at once.
        outcomes.push(await new Promise<number | "open">((resolve) => (ws.once("message", () => resolve("open")), ws.once("close", (code) => resolve(code)))));
      }
    }
    const reserve = Math.ceil(MAX_CONNECTIONS * LIMITS.reservedShare);
    expect(outcomes.filter((o) => o === "open").length).toBeLessThanOrEqual(MAX_CONNECTIONS - reserve);
    expect(outcomes.filter((o) => o !== "open").length).toBeGreaterThanOrEqual(reserve);
    expect(outcomes.filter((o) => o !== "open").every((o) => o === CLOSE.ROOM_FULL)).toBe(true);
    expect(await socketOutcome(`/parties/rig/${t.rigRoom(a)}`, t.operator, 500)).toBe("open");
    expect(await socketOutcome(`/parties/rig/${t.rigRoom(a)}`, t.container, 500)).toBe("open");
    for (const ws of held) ws.close();
  });

  it("a share link's full syncs are metered across all its sockets: past its budget a socket is told to come back later (4429)", async () => {
    const t = await town();
    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}`, ttl_s: 600 });
    // The room asks for the first syncs just after it starts; wait until those are the client's own
    // (with a socket open, or the idle room would be evicted and start again).
    const keepAlive = new ToolSocket({ host: server.host, party: "main", room: t.town, token: t.operator, WebSocket });
    await keepAlive.ready;
    await new Promise((r) => setTimeout(r, 15_500));
    const outcomes: (number | "open")[] = [];
    for (let i = 0; i < 210; i++) {
      const ws = new WebSocket(`ws://${server.host}${docPath(t, "town")}?token=${link.token}`);
      outcomes.push(
        await new Promise<number | "open">((resolve) => {
          // The room's own sync step 1 comes first; the whole document is its step 2 (0, 1, …).
          ws.on("message", (data: Buffer) => data[0] === 0 && data[1] === 1 && (ws.close(), resolve("open")));
          ws.on("open", () => ws.send(new Uint8Array([0, 0, 1, 0]))); // sync step 1 of an empty document
          ws.on("close", (code) => resolve(code));
          ws.on("error", () => {});
        }),
      );
    }
    const served = outcomes.filter((o) => o === "open").length;
    expect(served).toBeGreaterThanOrEqual(200);
    expect(served).toBeLessThan(210);
    expect(outcomes.filter((o) => o !== "open").every((o) => o === CLOSE.ROOM_FULL)).toBe(true);
    // An operator is not metered.
    expect((await synced(t, "town", t.operator)).getMap("rigs").size).toBe(0);
    keepAlive.close();
  }, 60_000);

  it("a document socket that asks for the whole document again and again is closed with 4420", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const ws = new WebSocket(`ws://${server.host}${docPath(t, a)}?token=${t.viewer}`);
    await new Promise((r) => ws.once("open", r));
    const replies: number[] = [];
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("message", (data: Buffer) => replies.push(data.byteLength));
    for (let i = 0; i < 8; i++) ws.send(new Uint8Array([0, 0, 1, 0])); // sync step 1 of an empty document
    expect(await closed).toBe(CLOSE.TOO_MANY_SYNCS);
    expect(replies.length).toBe(1 + LIMITS.syncsPerMinute);
  });
});

describe("git URLs", () => {
  it("remote helpers and plain http are refused; credentials are never shown in a document or the feed, and only the container reads them", async () => {
    const t = await town();
    for (const git_url of ["ext::sh -c touch% /tmp/pwned", "fd::3", "http://host/x.git", "--upload-pack=x"]) {
      expect((await fails(t.townCall("gt_rig_add", { name: "bad", git_url }))).code).toBe("INVALID_ARGS");
    }
    const secretUrl = "https://bot:ghp_supersecret@example.com/acme/web.git";
    const rig = await t.townCall<Rig>("gt_rig_add", { name: "web", git_url: secretUrl });
    // A container scoped to another rig does not get this one's credentials.
    const other = await t.addRig("other");
    const containerOther = await t.token({ role: "container", rigs: [other.id] });
    expect((await t.townCall<Rig[]>("gt_list_rigs", {}, containerOther)).find((r) => r.name === "web")!.gitUrl).toBe(
      "https://bot:***@example.com/acme/web.git",
    );
    expect((await t.townCall<Rig>("gt_rig_status", { name: "web" }, containerOther)).gitUrl).toBe("https://bot:***@example.com/acme/web.git");
    expect((await t.townCall<Rig>("gt_rig_status", { name: "web" }, t.container)).gitUrl).toBe(secretUrl);
    expect(rig.gitUrl).toBe("https://bot:***@example.com/acme/web.git");
    const townDoc = await synced(t, "town", t.viewer);
    const rigDoc = await synced(t, rig, t.viewer);
    expect(JSON.stringify(townDoc.toJSON())).not.toContain("ghp_supersecret");
    expect(JSON.stringify(rigDoc.toJSON())).not.toContain("ghp_supersecret");
    const web = (rigs: Rig[]) => rigs.find((r) => r.name === "web")!;
    expect(web(await t.townCall<Rig[]>("gt_list_rigs")).gitUrl).not.toContain("ghp_supersecret");
    expect(web(await t.townCall<Rig[]>("gt_list_rigs", {}, t.container)).gitUrl).toBe(secretUrl);
  });
});
