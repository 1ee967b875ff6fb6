import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { LIMITS } from "../../party/protocol.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

/** A raw socket, to send frames no well-behaved client would. */
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
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise((resolve) => ws.once("open", resolve));
  expect((await next()).type).toBe("hello");
  return { ws, next, closed };
}

describe("bad input gets a typed error and changes nothing (DESIGN §5)", () => {
  it("malformed JSON, bad frames, unknown tools, wrong args and oversize frames keep the socket open", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const { ws, next } = await rawSocket(town.rigRoom(a), "rig", toast.token);

    ws.send("{not json");
    expect((await next()).error.code).toBe("BAD_FRAME");
    ws.send(JSON.stringify({ type: "call", tool: "gt_prime" })); // no id
    expect((await next()).error.code).toBe("BAD_FRAME");
    ws.send(JSON.stringify({ type: "call", id: "1", tool: "gt_nope", args: {} }));
    expect(await next()).toMatchObject({ id: "1", ok: false, error: { code: "UNKNOWN_TOOL" } });
    ws.send(JSON.stringify({ type: "call", id: "2", tool: "gt_mail_send", args: { to: "not an address", subject: "", body: 5 } }));
    const invalid = await next();
    expect(invalid).toMatchObject({ id: "2", ok: false, error: { code: "INVALID_ARGS" } });
    expect(invalid.error.message).toMatch(/to:/);
    ws.send(JSON.stringify({ type: "call", id: "3", tool: "gt_mail_send", args: { to: "operator", subject: "x", body: "y".repeat(LIMITS.maxFrameBytes) } }));
    expect(await next()).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });

    // Still open and working, and none of the above stored anything.
    ws.send(JSON.stringify({ type: "call", id: "4", tool: "gt_prime", args: {} }));
    expect(await next()).toMatchObject({ id: "4", ok: true, value: { agent: { identity: toast.identity }, mail: [] } });
    const doc = await town.replica("rig", town.rigRoom(a)).whenSynced();
    expect(doc.getMap("mail").size).toBe(0);
    ws.close();
  });

  it("a binary frame on an agent's tool socket gets BAD_FRAME (documents have their own sockets, which agents may not open); other sockets are unaffected", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const birch = await town.polecat(a, "birch");
    const offender = await rawSocket(town.rigRoom(a), "rig", toast.token);
    const bystander = await rawSocket(town.rigRoom(a), "rig", birch.token);
    offender.ws.send(new Uint8Array([0, 0, 1, 0]));
    expect((await offender.next()).error.code).toBe("BAD_FRAME");
    const docSocket = new WebSocket(`ws://${host}/parties/rig/${town.rigRoom(a)}/docs/rig?token=${toast.token}`);
    expect(await new Promise((resolve) => docSocket.once("close", (code) => resolve(code)))).toBe(4403);
    offender.ws.close();
    bystander.ws.send(JSON.stringify({ type: "call", id: "x", tool: "gt_mail_check", args: {} }));
    expect(await bystander.next()).toMatchObject({ id: "x", ok: true, value: [] });
    bystander.ws.close();
  });

  it("closes a socket that keeps sending bad frames (4400) and one with a frame over the hard limit (4413)", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const abuser = await rawSocket(town.rigRoom(a), "rig", toast.token);
    for (let i = 0; i <= LIMITS.abuseStrikes; i++) abuser.ws.send("nope");
    expect(await abuser.closed).toBe(4400);
    const huge = await rawSocket(town.rigRoom(a), "rig", toast.token);
    huge.ws.send("x".repeat(LIMITS.hardFrameBytes + 1));
    expect(await huge.closed).toBe(4413);
  });

  it("HTTP answers malformed bodies, unknown tools and bad args with their status", async () => {
    town = await makeTown(host, secret);
    const url = `http://${host}/parties/main/${town.town}/api`;
    const post = (tool: string, body: string) =>
      fetch(`${url}/${tool}`, { method: "POST", headers: { authorization: `Bearer ${town.operator}` }, body }).then(async (r) => [
        r.status,
        ((await r.json()) as { error?: { code: string } }).error?.code,
      ]);
    expect(await post("gt_list_rigs", "{oops")).toEqual([400, "BAD_FRAME"]);
    expect(await post("gt_nothing", "{}")).toEqual([404, "UNKNOWN_TOOL"]);
    expect(await post("gt_rig_add", JSON.stringify({ name: "Bad Name", git_url: "x" }))).toEqual([400, "INVALID_ARGS"]);
    expect(await post("gt_rig_add", JSON.stringify({ name: "ok", git_url: "x", extra: 1 }))).toEqual([400, "INVALID_ARGS"]);
    expect(await post("gt_rig_add", "x".repeat(LIMITS.maxFrameBytes + 1))).toEqual([413, "TOO_LARGE"]);
    expect(await town.townCall("gt_list_rigs")).toEqual([]);
  });
});
