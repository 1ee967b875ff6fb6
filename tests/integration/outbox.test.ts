import { afterEach, describe, expect, inject, it } from "vitest";
import type { EventFrame, Mail, MailSendResult, Rig } from "../../party/protocol.ts";
import { makeTown, until, type TestTown } from "../helpers/town.ts";
import { fails } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

describe("durable outbox", () => {
  it("queues mail while the hop fails and delivers it once the hop works, exactly once", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const toast = await town.polecat(a, "toast");
    const maple = await town.polecat(b, "maple");
    const mapleSocket = town.agentSocket(b, maple.token);
    await mapleSocket.ready;
    const arrived: string[] = [];
    const allArrived = new Promise<void>((resolve) =>
      mapleSocket.onEvent((e: EventFrame) => {
        if (e.event === "mail") arrived.push(e.mail.id);
        if (arrived.length === 3) resolve();
      }),
    );

    // The direct attempt and the first two outbox retries fail.
    await town.rigCall(a, "gt_test_fault", { fail_hops: 5 });
    const sent: MailSendResult[] = [];
    for (const subject of ["one", "two", "three"]) {
      sent.push(await town.rigCall<MailSendResult>(a, "gt_mail_send", { to: maple.identity, subject, body: "" }, toast.token));
    }
    expect(sent.map((s) => s.state)).toEqual(["queued", "queued", "queued"]);
    const docA = town.replica("rig", town.rigRoom(a));
    await docA.whenSynced();
    expect(docA.doc.getMap<Mail>("mail").get(sent[0]!.id)?.state).toBe("queued");

    await allArrived;
    expect(arrived.sort()).toEqual(sent.map((s) => s.id).sort());
    const inbox = await mapleSocket.call<Mail[]>("gt_mail_check");
    expect(inbox.map((m) => m.subject).sort()).toEqual(["one", "three", "two"]);
    // The sender's copies say delivered.
    await until(
      (cb) => (docA.doc.getMap("mail").observe(cb), () => docA.doc.getMap("mail").unobserve(cb)),
      () => sent.every((s) => docA.doc.getMap<Mail>("mail").get(s.id)?.state === "delivered"),
    );
  });

  it("removing a rig wipes its room; mail to it then gets UNKNOWN_RECIPIENT", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const toast = await town.polecat(a, "toast");
    const maple = await town.polecat(b, "maple");
    await town.rigCall(a, "gt_mail_send", { to: maple.identity, subject: "before", body: "" }, toast.token);
    const dashboard = town.replica("rig", town.rigRoom(b));
    await dashboard.whenSynced();
    const gone = new Promise<number>((resolve) => dashboard.socket.addEventListener("close", (e: CloseEvent) => resolve(e.code)));

    expect(await town.townCall("gt_rig_remove", { name: "beta" })).toEqual({ removed: "beta", id: b.id });
    expect(await gone).toBe(4404);
    const afterwards = await fails(town.rigCall(a, "gt_mail_send", { to: maple.identity, subject: "after", body: "" }, toast.token));
    expect([afterwards.code, afterwards.status]).toEqual(["UNKNOWN_RECIPIENT", 404]);
    // The rig room is empty: its tools answer UNKNOWN_RIG, even to a still-valid operator token.
    const status = await fails(town.rigCall(b, "gt_list_beads"));
    expect([status.code, status.status]).toEqual(["UNKNOWN_RIG", 404]);
    expect((await town.townCall<Rig[]>("gt_list_rigs")).map((r) => r.name)).toEqual(["alpha"]);
    // The name is free again, and the new rig starts clean.
    const again = await town.addRig("beta");
    expect(again.id).not.toBe(b.id);
    expect(await town.rigCall(again, "gt_list_beads")).toEqual([]);
  });

  it("a queued mail to a rig removed meanwhile fails visibly and bounces to its sender", async () => {
    town = await makeTown(host, secret);
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const toast = await town.polecat(a, "toast");
    const maple = await town.polecat(b, "maple");
    const toastSocket = town.agentSocket(a, toast.token);
    await toastSocket.ready;
    await town.rigCall(a, "gt_test_fault", { fail_hops: 1 });
    const bounced = new Promise<Mail>((resolve) => toastSocket.onEvent((e) => e.event === "mail" && resolve(e.mail)));
    const sent = await toastSocket.call<MailSendResult>("gt_mail_send", { to: maple.identity, subject: "late", body: "" });
    expect(sent.state).toBe("queued");
    await town.townCall("gt_rig_remove", { name: "beta" });
    const bounce = await bounced;
    expect(bounce).toMatchObject({ id: sent.id, state: "failed", error: expect.stringMatching(/UNKNOWN_RECIPIENT/) });
  });
});
