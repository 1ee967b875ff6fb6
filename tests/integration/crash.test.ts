/**
 * An acknowledged write is never lost, not even by a crash right after the ack: SIGKILL the whole
 * `partykit dev` process group right after a burst of acked cross-rig sends, restart it on the same
 * storage, and count the recipient's inbox.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EventFrame, Mail, MailSendResult } from "../../party/protocol.ts";
import { newId } from "../../party/ids.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown } from "../helpers/town.ts";

const SECRET = "crash-test-secret-0123456789";
const persistDir = mkdtempSync(join(tmpdir(), "townhall-crash-"));
let server: DevServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("crash right after acks", () => {
  it("keeps every acked mail exactly once, and delivers what was queued after the restart", async () => {
    server = await startPartykit({ persistDir, vars: { GT_SECRET: SECRET, GT_TEST_HOOKS: "1" } });
    const port = server.port;
    const town = await makeTown(server.host, SECRET, "crash");
    const [a, b, c] = [await town.addRig("alpha"), await town.addRig("beta"), await town.addRig("gamma")];
    const toast = await town.polecat(a, "toast");
    const shadow = await town.polecat(c, "shadow");
    const maple = await town.polecat(b, "maple");

    // gamma's hops fail until the restart, so its mail is acked as queued and waits in its outbox.
    await town.rigCall(c, "gt_test_fault", { fail_hops: 10_000 });
    const queued: string[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await town.rigCall<MailSendResult>(c, "gt_mail_send", { to: maple.identity, subject: `queued ${i}`, body: "" }, shadow.token);
      expect(reply.state).toBe("queued");
      queued.push(reply.id);
    }

    // A burst from alpha's agents, over a socket each (each agent may send 30 at once); the kill
    // lands while a second wave is still in flight.
    const senders = [toast, ...(await Promise.all(Array.from({ length: 7 }, (_, i) => town.polecat(a, `burst-${i}`))))];
    const sockets = await Promise.all(
      senders.map(async (sender) => {
        const s = town.agentSocket(a, sender.token);
        await s.ready;
        return s;
      }),
    );
    const acked: string[] = [];
    const send = (i: number) => {
      const id = newId();
      return sockets[i % sockets.length]!.call<MailSendResult>("gt_mail_send", { to: maple.identity, subject: `burst ${i}`, body: "", id })
        .then((reply) => {
          expect(reply).toEqual({ id, state: "delivered" });
          acked.push(id);
        })
        .catch(() => {}); // unacked: may or may not have landed, but never twice
    };
    await Promise.all(Array.from({ length: 150 }, (_, i) => send(i)));
    const inFlight = Array.from({ length: 50 }, (_, i) => send(150 + i));
    await server.kill();
    await Promise.all(inFlight);
    town.closeAll();
    expect(acked.length).toBeGreaterThanOrEqual(150);

    server = await startPartykit({ persistDir, port, vars: { GT_SECRET: SECRET, GT_TEST_HOOKS: "1" } });
    const recipient = town.agentSocket(b, maple.token);
    await recipient.ready;
    const seen: string[] = [];
    let wake: () => void = () => {};
    recipient.onEvent((event: EventFrame) => event.event === "mail" && wake());
    const missing = () => queued.filter((id) => !seen.includes(id));
    for (;;) {
      const next = new Promise<void>((resolve) => (wake = resolve));
      const handed = await recipient.call<Mail[]>("gt_mail_check");
      seen.push(...handed.map((m) => m.id));
      if (handed.length) {
        await recipient.call("gt_mail_ack", { ids: handed.map((m) => m.id) });
        continue; // a check hands out a page at a time: the next one may hold more
      }
      if (missing().length === 0) break;
      await next; // gamma's outbox retries after its alarm wakes it
    }

    const counts = new Map<string, number>();
    for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(acked.filter((id) => !counts.has(id))).toEqual([]);
    expect(missing()).toEqual([]);
    town.closeAll();
  });
});
