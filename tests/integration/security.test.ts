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
import { fails, makeTown, untilReplica, workingAgent, type TestTown } from "../helpers/town.ts";

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
const docPath = (t: TestTown, which: "town" | "scope" | "mail" | Rig) =>
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
  it("a rig-scoped viewer reads its rig only, never the town document or its mail; a rig-scoped operator acts only on its rig; only a town-wide container gets the Mayor's token", async () => {
    const t = await town();
    const a = await t.addRig("alpha");
    const b = await t.addRig("beta");
    const viewerA = await t.token({ role: "viewer", rig: a.id });
    expect(await socketOutcome(docPath(t, "town"), viewerA)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, "scope"), viewerA)).toBe(CLOSE.FORBIDDEN);
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
  it("show one view: a bead link reads that rig, nothing of the town's; paths are matched exactly; links are listed and revoked, closing their open pages", async () => {
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
    expect(await socketOutcome(docPath(t, "town"), link.token)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, "scope"), link.token)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, b), link.token)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, "mail"), link.token)).toBe(CLOSE.FORBIDDEN);

    const listed = await t.townCall<ShareLink[]>("gt_share_list");
    expect(listed.map((l) => [l.id, l.path])).toEqual([[link.id, `/t/${t.town}/rigs/alpha/beads/${bead.id}`]]);
    // Open pages on the link, in the rig room and in the town room (a convoy link's), close when it is revoked.
    const convoy = await t.townCall<{ id: string }>("gt_convoy_create", { title: "shared", beads: [{ title: "one", rig: "alpha" }] });
    const convoyLink = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/convoys/${convoy.id}`, ttl_s: 600 });
    const closes = [socketOutcome(docPath(t, a), link.token, 15_000), socketOutcome(docPath(t, "scope"), convoyLink.token, 15_000)];
    await new Promise((r) => setTimeout(r, 500)); // both sockets are open before the revocation
    await t.townCall("gt_share_revoke", { id: link.id });
    await t.townCall("gt_share_revoke", { id: convoyLink.id });
    expect(await Promise.all(closes)).toEqual([CLOSE.UNAUTHORIZED, CLOSE.UNAUTHORIZED]);
    expect(await socketOutcome(docPath(t, a), link.token)).toBe(CLOSE.UNAUTHORIZED);
    expect((await t.townCall<ShareLink[]>("gt_share_list")).every((l) => l.revokedAt! > 0)).toBe(true);
  });

  it("reveal nothing outside their view's rig(s): a convoy link reads that convoy only; a rig-scoped operator its rig and the convoys it is in, kept in step", async () => {
    const t = await town();
    const [a, , c] = [await t.addRig("alpha"), await t.addRig("beta"), await t.addRig("gamma")];
    type Created = { id: string; beads: { beadId: string; rigName: string }[] };
    const spans = await t.townCall<Created>("gt_convoy_create", {
      title: "spans alpha and beta",
      beads: [
        { title: "alpha-work", rig: "alpha" },
        { title: "beta-work", rig: "beta" },
      ],
    });
    const gammaOnly = await t.townCall<Created>("gt_convoy_create", { title: "gamma's secret convoy", beads: [{ title: "gamma-secret-bead", rig: "gamma" }] });
    await t.rigCall(c, "gt_bead_create", { title: "gamma-unrelated-bead" });

    const link = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/convoys/${spans.id}`, ttl_s: 600 });
    expect(link.view).toEqual({ kind: "convoy", convoy: spans.id });
    expect(await socketOutcome(docPath(t, "town"), link.token)).toBe(CLOSE.FORBIDDEN);
    expect(await socketOutcome(docPath(t, a), link.token)).toBe(CLOSE.FORBIDDEN);
    const linkReplica = t.replica("main", t.town, link.token, "scope");
    const seen = await linkReplica.whenSynced();
    expect([...seen.getMap("convoys").keys()]).toEqual([spans.id]);
    expect(seen.getMap("rigs").size).toBe(0);
    const everything = () => JSON.stringify(linkReplica.doc.toJSON());
    expect(everything()).toContain("alpha-work");
    expect(everything()).toContain("beta");
    for (const hidden of ["gamma", gammaOnly.id, c.id]) expect(everything()).not.toContain(hidden);

    const operatorA = await t.token({ role: "operator", rig: a.id });
    expect(await socketOutcome(docPath(t, "town"), operatorA)).toBe(CLOSE.FORBIDDEN);
    const opReplica = t.replica("main", t.town, operatorA, "scope");
    const ops = await opReplica.whenSynced();
    expect([...ops.getMap("rigs").keys()]).toEqual([a.id]);
    expect([...ops.getMap("convoys").keys()]).toEqual([spans.id]);
    expect(JSON.stringify(ops.toJSON())).not.toContain("gamma");

    // Kept in step with the town: a convoy alpha joins appears for its operator, not for the link;
    // one of gamma's never reaches either.
    const later = await t.townCall<Created>("gt_convoy_create", { title: "alpha's next", beads: [{ title: "alpha-next", rig: "alpha" }] });
    await t.townCall<Created>("gt_convoy_create", { title: "gamma again", beads: [{ title: "gamma-again", rig: "gamma" }] });
    await t.rigCall(a, "gt_bead_update", { bead_id: spans.beads.find((b) => b.rigName === "alpha")!.beadId, status: "closed" });
    await untilReplica(opReplica, (doc) => doc.getMap("convoys").has(later.id));
    await untilReplica(linkReplica, (doc) => JSON.stringify(doc.getMap("convoys").get(spans.id)).includes('"closed"'));
    expect([...linkReplica.doc.getMap("convoys").keys()]).toEqual([spans.id]);
    expect(everything()).not.toContain("gamma");
    expect(JSON.stringify(opReplica.doc.toJSON())).not.toContain("gamma");
  });
});
