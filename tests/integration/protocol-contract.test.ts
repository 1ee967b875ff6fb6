/**
 * What docs/protocol.md promises, tried from outside on real `partykit dev` (issue 13): the answers
 * a client gets for a wrong method or route, an oversize frame with an id, an `as` the caller may
 * not use, and the bead a merge report answers with.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { LIMITS, type Bead } from "../../party/protocol.ts";
import { fails, makeTown, workingAgent, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

async function rawSocket(room: string, party: "main" | "rig", token: string) {
  const ws = new WebSocket(`ws://${host}/parties/${party}/${room}?token=${token}`);
  const frames: any[] = [];
  const waiters: ((f: any) => void)[] = [];
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const frame = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  const next = () => new Promise<any>((resolve) => (frames.length ? resolve(frames.shift()) : waiters.push(resolve)));
  await new Promise((resolve) => ws.once("open", resolve));
  expect((await next()).type).toBe("hello");
  return { ws, next };
}

describe("HTTP routes and methods", () => {
  it("a wrong method is 405 METHOD_NOT_ALLOWED with Allow, an unknown route 404 NOT_FOUND, and no token is 401 before either", async () => {
    town = await makeTown(host, secret);
    const base = `http://${host}/parties/main/${town.town}`;
    const auth = { authorization: `Bearer ${town.operator}` };
    const answer = async (path: string, init: RequestInit) => {
      const r = await fetch(`${base}${path}`, init);
      return { status: r.status, allow: r.headers.get("allow"), code: ((await r.json()) as { error?: { code: string } }).error?.code };
    };
    expect(await answer("/api/gt_list_rigs", { method: "GET", headers: auth })).toEqual({ status: 405, allow: "POST", code: "METHOD_NOT_ALLOWED" });
    expect(await answer("/api/gt_list_rigs", { method: "PUT", headers: auth, body: "{}" })).toEqual({ status: 405, allow: "POST", code: "METHOD_NOT_ALLOWED" });
    expect(await answer("", { method: "POST", headers: auth, body: "{}" })).toEqual({ status: 405, allow: "GET", code: "METHOD_NOT_ALLOWED" });
    expect(await answer("/nowhere", { method: "GET", headers: auth })).toEqual({ status: 404, allow: null, code: "NOT_FOUND" });
    expect(await answer("/api/gt_nothing", { method: "POST", headers: auth, body: "{}" })).toEqual({ status: 404, allow: null, code: "UNKNOWN_TOOL" });
    // The gate answers first: without a token nothing about routes is told.
    expect(await answer("/api/gt_list_rigs", { method: "GET" })).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(await answer("/nowhere", { method: "GET" })).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });
});

describe("oversize frames", () => {
  it("are answered TOO_LARGE with their id, also when the frame is not JSON past its start", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const { ws, next } = await rawSocket(town.rigRoom(a), "rig", toast.token);
    ws.send(
      JSON.stringify({ type: "call", id: "big-1", tool: "gt_mail_send", args: { to: "operator", subject: "x", body: "y".repeat(LIMITS.maxFrameBytes) } }),
    );
    expect(await next()).toMatchObject({ id: "big-1", ok: false, error: { code: "TOO_LARGE" } });
    // Cut short (not JSON as a whole): the id is read from the frame's start.
    ws.send(`{"type":"call","id":"big-2","tool":"gt_mail_send","args":{"body":"${"y".repeat(LIMITS.maxFrameBytes)}`);
    expect(await next()).toMatchObject({ id: "big-2", ok: false, error: { code: "TOO_LARGE" } });
    // Any frame that is not JSON: answered with the id at its start, if it has one there.
    ws.send(`{"type":"call","id":"small","tool":`);
    expect(await next()).toMatchObject({ id: "small", ok: false, error: { code: "BAD_FRAME" } });
    ws.send(`{"args":{"id":"nested"},"id":"late"`);
    expect(await next()).toMatchObject({ id: null, ok: false, error: { code: "BAD_FRAME" } });
    ws.close();
  });
});

describe("`as` the caller may not use is FORBIDDEN", () => {
  it("the Mayor's town mail tools as operator", async () => {
    town = await makeTown(host, secret);
    await town.townCall("gt_mail_send", { to: "mayor", subject: "for the mayor", body: "" });
    const mayor = await town.token({ role: "agent", agent: "mayor" });
    for (const [tool, args] of [
      ["gt_mail_check", { as: "operator" }],
      ["gt_mail_ack", { as: "operator", ids: ["01ARZ3NDEKTSV4RRFFQ69G5FAV"] }],
      ["gt_mail_read", { as: "operator", id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }],
    ] as const) {
      expect([tool, (await fails(town.townCall(tool, args, mayor))).code]).toEqual([tool, "FORBIDDEN"]);
    }
    expect((await town.townCall<{ subject: string }[]>("gt_mail_check", { as: "mayor" }, mayor)).map((m) => m.subject)).toEqual(["for the mayor"]);
  });

  it("an identity outside the rig, for operators and the container in a rig room", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    await town.polecat(a, "toast");
    for (const as of ["beta/polecats/toast", "mayor", "operator"]) {
      for (const token of [town.operator, town.container]) {
        expect([as, (await fails(town.rigCall(a, "gt_mail_check", { as }, token))).code]).toEqual([as, "FORBIDDEN"]);
      }
    }
    expect(await town.rigCall(a, "gt_mail_check", { as: "alpha/polecats/toast" })).toEqual([]);
    // An operator's mail from the rig room is the operator's, with `as` or without.
    expect(await town.rigCall(a, "gt_mail_send", { to: "alpha/polecats/toast", subject: "hi", body: "", as: "operator" })).toMatchObject({
      state: "delivered",
    });
  });
});

describe("gt_merge_result", () => {
  it("answers a failed merge with the bead as stored right after it (reopened, an attempt counted, dispatched again at once)", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const { bead, start, epoch } = await workingAgent(town, a);
    await town.rigCall(a, "gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run, epoch }, town.container);
    expect(await town.rigCall(a, "gt_done", { as: start.identity, branch: start.branch }, town.container)).toEqual({ bead_id: bead.id, status: "in_review" });
    const report = { bead_id: bead.id, epoch, ok: false, failure: "conflict", error: "CONFLICT in a.ts" };
    const reply = await town.rigCall<Bead>(a, "gt_merge_result", report, town.container);
    expect(reply).toMatchObject({ id: bead.id, status: "in_progress", attempts: 1, runs: 2 });
    expect(reply.history?.map((h) => h.status)).toEqual(["open", "in_progress"]);
    const stored = await town.rigCall<Bead>(a, "gt_bead_status", { bead_id: bead.id });
    expect(stored).toMatchObject({ status: "in_progress", attempts: 1, rev: reply.rev });
    // A repeat of the same report (a lost reply) answers the bead as it is and changes nothing; another report is CONFLICT.
    expect(await town.rigCall<Bead>(a, "gt_merge_result", report, town.container)).toMatchObject({ id: bead.id, status: "in_progress", attempts: 1 });
    expect((await fails(town.rigCall(a, "gt_merge_result", { bead_id: bead.id, epoch, ok: true, merge_commit: "a".repeat(40) }, town.container))).code).toBe(
      "CONFLICT",
    );
    expect(await town.rigCall<Bead>(a, "gt_bead_status", { bead_id: bead.id })).toMatchObject({ status: "in_progress", attempts: 1 });
  });
});
