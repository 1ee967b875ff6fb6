import { afterEach, describe, expect, inject, it } from "vitest";
import type { EventFrame, Mail, MailSendResult } from "../../party/protocol.ts";
import { ToolCallError } from "../../client/tools.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";
import { fails } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;

afterEach(() => town?.closeAll());

function nextMailEvent(socket: { onEvent(cb: (e: EventFrame) => void): () => void }): Promise<Mail> {
  return new Promise((resolve) => {
    const off = socket.onEvent((event) => {
      if (event.event === "mail") {
        off();
        resolve(event.mail);
      }
    });
  });
}

describe("cross-rig mail", () => {
  it("reaches the recipient's open socket at once, and its inbox exactly once", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const sender = await town.polecat(a, "toast");
    const recipient = await town.polecat(b, "maple");
    const senderSocket = town.agentSocket(a, sender.token);
    const recipientSocket = town.agentSocket(b, recipient.token);
    await Promise.all([senderSocket.ready, recipientSocket.ready]);

    const event = nextMailEvent(recipientSocket);
    const sent = await senderSocket.call<MailSendResult>("gt_mail_send", { to: recipient.identity, subject: "hello", body: "from alpha" });
    expect(sent.state).toBe("delivered");
    const pushed = await event;
    expect(pushed).toMatchObject({ id: sent.id, from: sender.identity, to: recipient.identity, subject: "hello", state: "delivered" });

    const first = await recipientSocket.call<Mail[]>("gt_mail_check");
    expect(first.map((m) => m.id)).toEqual([sent.id]);
    expect(first[0]!.state).toBe("delivered");
    // Handed out again until acknowledged, then never again.
    expect((await recipientSocket.call<Mail[]>("gt_mail_check")).map((m) => m.id)).toEqual([sent.id]);
    expect(await recipientSocket.call("gt_mail_ack", { ids: [sent.id] })).toEqual({ acked: [sent.id] });
    expect(await recipientSocket.call<Mail[]>("gt_mail_check")).toEqual([]);
    expect(await recipientSocket.call("gt_mail_ack", { ids: [sent.id] })).toEqual({ acked: [] });
  });

  it("works the same over HTTP, and a retried send with the same id is stored once", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const sender = await town.polecat(a, "toast");
    const recipient = await town.polecat(b, "maple");
    const id = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    for (let i = 0; i < 2; i++) {
      const sent = await town.rigCall<MailSendResult>(a, "gt_mail_send", { to: recipient.identity, subject: "over http", body: "", id }, sender.token);
      expect(sent).toEqual({ id, state: "delivered" });
    }
    const inbox = await town.rigCall<Mail[]>(b, "gt_mail_check", {}, recipient.token);
    expect(inbox.map((m) => [m.id, m.from, m.subject])).toEqual([[id, sender.identity, "over http"]]);
    await town.rigCall(b, "gt_mail_ack", { ids: [id] }, recipient.token);
    expect(await town.rigCall<Mail[]>(b, "gt_mail_check", {}, recipient.token)).toEqual([]);
    // Nobody acknowledges another's mail: the sender's token cannot mark it read.
    expect(await town.rigCall(a, "gt_mail_ack", { ids: [id] }, sender.token)).toEqual({ acked: [] });
  });

  it("refuses an unknown rig or agent with UNKNOWN_RECIPIENT (404) and stores nothing", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const sender = await town.polecat(a, "toast");
    for (const to of ["gamma/polecats/maple", `${b.name}/polecats/nobody`, `${a.name}/polecats/nobody`]) {
      const error = await fails(town.rigCall(a, "gt_mail_send", { to, subject: "x", body: "" }, sender.token));
      expect(error).toBeInstanceOf(ToolCallError);
      expect([error.code, error.status]).toEqual(["UNKNOWN_RECIPIENT", 404]);
    }
    const docA = await town.replica("rig", town.rigRoom(a)).whenSynced();
    const docB = await town.replica("rig", town.rigRoom(b)).whenSynced();
    expect(docA.getMap("mail").size).toBe(0);
    expect(docB.getMap("mail").size).toBe(0);
  });

  it("delivers mail to mayor and operator in the town, and operator mail to a rig agent", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const sender = await town.polecat(a, "toast");
    await town.rigCall(a, "gt_mail_send", { to: "operator", subject: "need help", body: "stuck" }, sender.token);
    const operatorInbox = await town.townCall<Mail[]>("gt_mail_check");
    expect(operatorInbox.map((m) => [m.from, m.subject])).toEqual([[sender.identity, "need help"]]);
    await town.townCall("gt_mail_ack", { ids: operatorInbox.map((m) => m.id) });
    expect(await town.townCall<Mail[]>("gt_mail_check")).toEqual([]);

    const reply = await town.townCall<MailSendResult>("gt_mail_send", { to: sender.identity, subject: "on it", body: "" });
    expect(reply.state).toBe("delivered");
    const inbox = await town.rigCall<Mail[]>(a, "gt_mail_check", {}, sender.token);
    expect(inbox.map((m) => [m.from, m.subject])).toEqual([["operator", "on it"]]);
  });
});
