/**
 * #2 cross-rig mail: an agent in rig A sends to an agent in rig B (A → town → B). Times send →
 * the sender's delivered ack, send → the recipient's mail event, and send → visible to the
 * recipient's gt_mail_check; idle and under 50 bead edits/s. Beside it, in the same run: a tool
 * call that stays in its room (no storage), mail inside one rig (no hop), mail to the town (one
 * hop), and the peer design (a 5 s poll of the inbox).
 */
import type { ToolSocket } from "../../client/tools.ts";
import { callHttp } from "../../client/tools.ts";
import type { EventFrame, Mail, MailSendResult } from "../../party/protocol.ts";
import { CpuMeter, type CpuReading } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, openReplicas, operatorSockets, pollingLatencies, sleep, toolSocket } from "../lib/fixtures.ts";
import { ProbeReceiver, parseProbe, probeTitle } from "../lib/probes.ts";
import { LATENCY_HEADERS, latencyRow, type Metric, type SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize, type Summary } from "../lib/stats.ts";
import { fmt, type Cell } from "../lib/table.ts";

const SEED = 202;
const EDITS_PER_S = 50;

type Probe = { ack: number[]; event: number[]; visible: number[]; drops: number; errors: number; cpu: CpuReading };

export const mail: Metric = {
  id: 2,
  name: "mail",
  title: "cross-rig mail",
  async run(ctx) {
    const count = ctx.smoke ? 40 : 300;
    const warmup = 10;
    const rng = new Rng(SEED);
    const server = await BenchServer.start();
    const rows: Cell[][] = [];
    const breakdown: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    const opened: { close(): void }[] = [];
    try {
      const town = await benchTown(server.host, "mail");
      const a = await town.addRig("alpha");
      const b = await town.addRig("beta");
      const toast = await town.polecat(a, "toast");
      const birch = await town.polecat(a, "birch");
      const maple = await town.polecat(b, "maple");
      const sender = toolSocket(town, "rig", town.rigRoom(a), toast.token);
      const localRecipient = toolSocket(town, "rig", town.rigRoom(a), birch.token);
      const recipient = toolSocket(town, "rig", town.rigRoom(b), maple.token);
      const operator = toolSocket(town, "main", town.town, town.operator);
      opened.push(sender, localRecipient, recipient, operator);
      await Promise.all([sender.ready, localRecipient.ready, recipient.ready, operator.ready]);
      // Beads to edit, and a dashboard on each rig and on the town, so edits fan out as in real use.
      const opA = await operatorSockets(town, a, 1);
      const opB = await operatorSockets(town, b, 1);
      opened.push(...opA, ...opB);
      const beadsA = (await createBeads(opA, 50, rng)).ids;
      const beadsB = (await createBeads(opB, 50, rng)).ids;
      opened.push(
        ...(await openReplicas(town, "rig", town.rigRoom(a), 1)),
        ...(await openReplicas(town, "rig", town.rigRoom(b), 1)),
        ...(await openReplicas(town, "main", town.town, 1)),
      );

      /** Sends `count` probes from `from` to `to`; `listener` is the socket that receives the event and checks the inbox. */
      const probe = async (from: ToolSocket, to: string, listener: ToolSocket | null, checkArgs: Record<string, unknown> = {}): Promise<Probe> => {
        const receiver = new ProbeReceiver();
        const arrivals = new Map<number, () => void>();
        const off = listener?.onEvent((e: EventFrame) => {
          if (e.event !== "mail") return;
          const p = parseProbe(e.mail.subject);
          if (!p) return;
          receiver.receive(p.seq, p.t0);
          arrivals.get(p.seq)?.();
        });
        const result: Probe = { ack: [], event: [], visible: [], drops: 0, errors: 0, cpu: null as unknown as CpuReading };
        let meter: CpuMeter | null = null;
        for (let i = 0; i < warmup + count; i++) {
          if (i === warmup) meter = new CpuMeter(() => server.pgid);
          const counted = i >= warmup;
          const arrived = listener ? new Promise<void>((r) => arrivals.set(i, r)) : Promise.resolve();
          const t0 = performance.now();
          const subject = probeTitle(i, t0);
          try {
            const reply = await from.call<MailSendResult>("gt_mail_send", { to, subject, body: "probe" });
            if (counted) result.ack.push(performance.now() - t0);
            if (reply.state !== "delivered" && counted) result.errors++;
          } catch {
            if (counted) result.errors++;
            continue;
          }
          if (!listener) continue;
          const timedOut = await Promise.race([arrived.then(() => false), sleep(5000).then(() => true)]);
          arrivals.delete(i);
          if (timedOut) continue; // counted as a drop by the receiver
          if (counted) result.event.push(receiver.seenAt.get(i)! - t0);
          const inbox = await listener.call<Mail[]>("gt_mail_check", checkArgs);
          if (counted && inbox.some((m) => m.subject === subject)) result.visible.push(performance.now() - t0);
          else if (counted) result.errors++;
          await sleep(rng.int(0, 10)); // decorrelate from the edit loop
        }
        result.cpu = meter!.stop();
        off?.();
        receiver.finish(warmup + count - 1);
        result.drops = listener ? receiver.drops : 0;
        return result;
      };

      const inRoom = async (): Promise<number[]> => {
        const xs: number[] = [];
        for (let i = 0; i < warmup + count; i++) {
          const t0 = performance.now();
          await sender.call("gt_heartbeat");
          if (i >= warmup) xs.push(performance.now() - t0);
        }
        return xs;
      };

      // Background load: EDITS_PER_S bead title edits, alternating between the two rigs.
      let editing = false;
      let edits = 0;
      let editErrors = 0;
      const editLoop = async () => {
        const period = 1000 / EDITS_PER_S;
        const start = performance.now();
        for (let k = 0; editing; k++) {
          const [socket, ids] = k % 2 === 0 ? [opA[0]!, beadsA] : [opB[0]!, beadsB];
          socket.call("gt_bead_update", { bead_id: ids[k % ids.length], title: `edit ${k}` }).then(
            () => edits++,
            () => editErrors++,
          );
          const wait = start + (k + 1) * period - performance.now();
          if (wait > 0) await sleep(wait);
        }
      };

      for (const load of ["idle", `${EDITS_PER_S} bead edits/s`]) {
        ctx.log(`#2 ${load}`);
        let loop: Promise<void> = Promise.resolve();
        const e0 = edits;
        const l0 = performance.now();
        if (load !== "idle") {
          editing = true;
          loop = editLoop();
          await sleep(500);
        }
        const local = await inRoom();
        const sameRig = await probe(sender, birch.identity, localRecipient);
        const toTown = await probe(sender, "operator", operator, { as: "operator" });
        const cross = await probe(sender, maple.identity, recipient);
        editing = false;
        await loop;
        const rate = load === "idle" ? 0 : (edits - e0) / ((performance.now() - l0) / 1000);
        const s = { ack: summarize(cross.ack), event: summarize(cross.event), visible: summarize(cross.visible) };
        const l = summarize(local);
        rows.push(
          latencyRow(`${load}: send → sender's delivered ack`, s.ack, 0, cross.errors, cross.cpu, l.p50),
          latencyRow(`${load}: send → recipient's mail event`, s.event, cross.drops, 0, null, l.p50),
          latencyRow(`${load}: send → in recipient's gt_mail_check`, s.visible, 0, 0, null, l.p50),
        );
        const row = (label: string, x: Summary) => [load, label, x.n, x.p50, x.p95, x.p99, x.max];
        breakdown.push(
          row("in-room tool round trip (gt_heartbeat, no storage)", l),
          row("same-rig mail → ack (1 room, 1 storage write)", summarize(sameRig.ack)),
          row("same-rig mail → event", summarize(sameRig.event)),
          row("mail to operator → ack (rig → town: 1 hop)", summarize(toTown.ack)),
          row("mail to operator → event", summarize(toTown.event)),
          row("cross-rig mail → ack (rig → town → rig: 2 hops)", s.ack),
          row("cross-rig mail → event", s.event),
        );
        // Peer design: the recipient polls its inbox every 5 s (a measured gt_mail_check fetch).
        const fetches: number[] = [];
        for (let i = 0; i < 20; i++) {
          const t0 = performance.now();
          await callHttp({ host: server.host, party: "rig", room: town.rigRoom(b), token: maple.token }, "gt_mail_check", {});
          fetches.push(performance.now() - t0);
        }
        const peer = summarize(pollingLatencies(rng, count * 10, fetches));
        rows.push(latencyRow(`${load}: peer design (5 s inbox poll)`, peer, 0, 0, null, l.p50));
        for (const [what, x] of [
          ["ack", s.ack],
          ["recipient event", s.event],
        ] as const) {
          summary.push({
            metric: `#2 cross-rig mail → ${what}, ${load}`,
            result: `p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms`,
            baseline: `peer p50 ${fmt(peer.p50, 0)} ms; in-room call p50 ${fmt(l.p50)} ms`,
            ratio: x.p50 / peer.p50,
            bar: "p50 ≤ 3 ms, p99 ≤ 20 ms",
            met: x.p50 <= 3 && x.p99 <= 20 && cross.drops === 0 && cross.errors === 0,
          });
        }
        data[load] = {
          cross: { ...s, drops: cross.drops, errors: cross.errors, cpu: cross.cpu },
          sameRig: { ack: summarize(sameRig.ack), event: summarize(sameRig.event) },
          toTown: { ack: summarize(toTown.ack), event: summarize(toTown.event) },
          inRoom: l,
          peer,
          editsPerS: rate,
          editErrors,
        };
        if (load !== "idle")
          notes.push(
            `Edit load achieved ${fmt(rate, 1)} edits/s (${editErrors} failed), alternating between the two rigs, each rig and the town with a dashboard replica open.`,
          );
      }
      notes.push(
        "One probe at a time: send over the agent's ToolSocket, wait for the recipient's mail event, then the recipient calls gt_mail_check (which must return the probe). The subject carries the sequence number and send time; gaps in the recipient's events count as drops.",
        "Ratio in the summary: result p50 ÷ the peer design's p50 (the recipient polls its inbox every 5 s). Latency rows' ratio column: ÷ the in-room tool round trip.",
      );
      town.closeAll();
    } finally {
      closeAll(opened);
      await server.close();
    }
    return {
      params: { count, warmup, seed: SEED, editsPerS: EDITS_PER_S },
      sections: [
        { title: "cross-rig mail, alpha → beta (ms)", headers: LATENCY_HEADERS, rows },
        { title: "where the time goes: the same send with fewer hops (ms)", headers: ["load", "path", "n", "p50", "p95", "p99", "max"], rows: breakdown },
      ],
      summary,
      notes,
      data,
    };
  },
};
