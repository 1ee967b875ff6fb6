/**
 * #8 acked writes survive a crash: a stream of writes (cross-rig mails, bead creates with
 * client-chosen ids, bead title edits) with 16 in flight; at a seeded random point the server's
 * process group is SIGKILLed; after a restart on the same storage, every acked write must be there
 * exactly once. Then the unacked writes are sent again with the same ids: each must land once.
 */
import type { ToolSocket } from "../../client/tools.ts";
import { newId } from "../../party/ids.ts";
import type { Bead, Mail, MailSendResult } from "../../party/protocol.ts";
import { benchTown, closeAll, createBeads, operatorSockets, replica, sleep, toolSocket, untilReplica } from "../lib/fixtures.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import type { Cell } from "../lib/table.ts";

type Op = { k: number; kind: "mail" | "create" | "edit"; id: string; state: "pending" | "acked" | "failed"; queued?: boolean };

export const crash: Metric = {
  id: 8,
  name: "crash",
  title: "acked writes survive a crash",
  async run(ctx) {
    const seeds = ctx.smoke ? [1] : [1, 2, 3];
    const count = ctx.smoke ? 300 : 1000;
    const window = 16;
    const rows: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const server = await BenchServer.start();
    try {
      for (const seed of seeds) {
        ctx.log(`#8 seed ${seed}: ${count} writes`);
        const rng = new Rng(seed);
        const town = await benchTown(server.host, `crash${seed}`);
        const a = await town.addRig("alpha");
        const b = await town.addRig("beta");
        const toast = await town.polecat(a, "toast");
        const maple = await town.polecat(b, "maple");
        const [op] = await operatorSockets(town, a, 1);
        const editable = (await createBeads([op!], Math.ceil(count / 3), rng)).ids;
        const sender = toolSocket(town, "rig", town.rigRoom(a), toast.token);
        await sender.ready;
        const ops: Op[] = Array.from({ length: count }, (_, k) => {
          const kind = rng.pick(["mail", "create", "edit"] as const);
          return { k, kind, id: kind === "edit" ? editable[k % editable.length]! : newId(), state: "pending" };
        });
        // Distinct edit targets: one edit per bead, so "acked" means "this title must be there".
        const usedTargets = new Set<string>();
        for (const o of ops) if (o.kind === "edit") usedTargets.has(o.id) ? ((o.kind = "create"), (o.id = newId())) : usedTargets.add(o.id);
        const send = (o: Op, s: { mail: ToolSocket; bead: ToolSocket }): Promise<unknown> => {
          if (o.kind === "mail")
            return s.mail
              .call<MailSendResult>("gt_mail_send", { to: maple.identity, subject: `m ${o.k}`, body: `seed ${seed}`, id: o.id })
              .then((r) => (o.queued = r.state === "queued"));
          if (o.kind === "create") return s.bead.call("gt_bead_create", { title: `c ${o.k}`, id: o.id });
          return s.bead.call("gt_bead_update", { bead_id: o.id, title: `e ${o.k}` });
        };

        const killAt = rng.int(Math.floor(count * 0.2), Math.floor(count * 0.8));
        let acked = 0;
        let next = 0;
        let killed: Promise<void> | null = null;
        let inFlightAtKill = 0;
        let inFlight = 0;
        await Promise.all(
          Array.from({ length: window }, async () => {
            while (next < count && !killed) {
              const o = ops[next++]!;
              inFlight++;
              try {
                await send(o, { mail: sender, bead: op! });
                o.state = "acked";
                if (++acked === killAt && !killed) {
                  inFlightAtKill = inFlight - 1;
                  killed = server.down("kill");
                }
              } catch {
                o.state = "failed";
              } finally {
                inFlight--;
              }
            }
          }),
        );
        await killed;
        for (const o of ops) if (o.state === "pending") o.state = "failed"; // never sent
        const sentBeforeKill = next;
        await server.up();

        // Verify from fresh replicas of both rigs.
        const ra = replica(town, "rig", town.rigRoom(a), town.operator);
        const rb = replica(town, "rig", town.rigRoom(b), town.operator);
        await Promise.all([ra.whenSynced(), rb.whenSynced()]);
        const ackedMail = ops.filter((o) => o.kind === "mail" && o.state === "acked");
        // Queued (acked as queued) mail reaches B through the outbox after the restart.
        await untilReplica(rb, (doc) => ackedMail.every((o) => doc.getMap<Mail>("mail").has(o.id)), 30_000, "acked mail in beta").catch(() => {});
        const check = () => {
          const beads = ra.doc.getMap<Bead>("beads");
          const inbox = [...rb.doc.getMap<Mail>("mail").values()];
          const titles = new Map<string, number>();
          for (const bead of beads.values()) titles.set(bead.title, (titles.get(bead.title) ?? 0) + 1);
          const subjects = new Map<string, number>();
          for (const m of inbox) subjects.set(m.subject, (subjects.get(m.subject) ?? 0) + 1);
          const present = (o: Op) =>
            o.kind === "mail"
              ? (subjects.get(`m ${o.k}`) ?? 0)
              : o.kind === "create"
                ? (titles.get(`c ${o.k}`) ?? 0)
                : beads.get(o.id)?.title === `e ${o.k}`
                  ? 1
                  : 0;
          return { present, inboxIds: new Set(inbox.map((m) => m.id)) };
        };
        let view = check();
        const lost = ops.filter((o) => o.state === "acked" && view.present(o) === 0);
        const duplicated = ops.filter((o) => view.present(o) > 1);
        const unacked = ops.filter((o) => o.state === "failed");
        const unackedLanded = unacked.filter((o) => view.present(o) > 0).length;

        // Send every unacked write again with the same id: each must end up exactly once.
        const fresh = { mail: toolSocket(town, "rig", town.rigRoom(a), toast.token), bead: toolSocket(town, "rig", town.rigRoom(a), town.operator) };
        await Promise.all([fresh.mail.ready, fresh.bead.ready]);
        let retryErrors = 0;
        for (const o of unacked) await send(o, fresh).catch(() => retryErrors++);
        await untilReplica(
          rb,
          (doc) => ops.filter((o) => o.kind === "mail").every((o) => doc.getMap<Mail>("mail").has(o.id)),
          30_000,
          "all mail in beta",
        ).catch(() => {});
        await sleep(100);
        view = check();
        const missingAfter = ops.filter((o) => view.present(o) === 0).length;
        const dupAfter = ops.filter((o) => view.present(o) > 1).length;
        closeAll(ra, rb, fresh.mail, fresh.bead, sender, op);
        town.closeAll();

        const queuedAcked = ackedMail.filter((o) => o.queued).length;
        rows.push([
          seed,
          count,
          killAt,
          sentBeforeKill,
          acked,
          inFlightAtKill,
          queuedAcked,
          lost.length,
          duplicated.length,
          `${unackedLanded} of ${unacked.length}`,
          retryErrors,
          missingAfter,
          dupAfter,
        ]);
        data[`seed${seed}`] = {
          killAt,
          acked,
          sentBeforeKill,
          inFlightAtKill,
          lost: lost.map((o) => `${o.kind} ${o.k}`),
          duplicated: duplicated.map((o) => `${o.kind} ${o.k}`),
          unacked: unacked.length,
          unackedLanded,
          retryErrors,
          missingAfter,
          dupAfter,
          queuedAcked,
        };
        summary.push({
          metric: `#8 crash at ack ${killAt} of ${count} (seed ${seed})`,
          result: `${acked} acked: ${lost.length} lost, ${duplicated.length} duplicated; after resending ${unacked.length} unacked: ${missingAfter} missing, ${dupAfter} duplicated`,
          baseline: "–",
          ratio: null,
          bar: "0 acked lost, none duplicated",
          met: lost.length === 0 && duplicated.length === 0 && missingAfter === 0 && dupAfter === 0,
        });
      }
    } finally {
      await server.close();
    }
    return {
      params: { seeds, writes: count, inFlight: window },
      sections: [
        {
          title: "SIGKILL of the server group mid-stream, restart on the same storage",
          headers: [
            "seed",
            "writes",
            "kill at ack #",
            "sent before kill",
            "acked",
            "in flight at kill",
            "acked as queued",
            "acked lost",
            "duplicated",
            "unacked that landed anyway",
            "resend errors",
            "missing after resend",
            "duplicated after resend",
          ],
          rows,
        },
      ],
      summary,
      notes: [
        "Writes, in seeded random order: cross-rig mail (agent in alpha → agent in beta, client-chosen id), gt_bead_create (client-chosen id) and gt_bead_update of a distinct bead's title each. Lost = acked but absent from a fresh replica after the restart (mail: in beta's inbox, waiting up to 30 s for queued mail to leave alpha's outbox); duplicated = the same mail subject or bead title stored more than once.",
        "Unacked writes (in flight or not yet sent at the kill) may or may not have landed; they are then sent again with the same ids, after which every write must be present exactly once.",
      ],
      data,
    };
  },
};
