/**
 * #13 one-token flood: one agent token sends mail of the largest allowed body to `operator`, and
 * escalations of the largest allowed body, as fast as the room lets it (waiting out RATE_LIMITED as
 * told), for 60 s. Measured: what it got through, the size of the documents it could grow (the
 * town's, the town mail's and its rig's, encoded, and the first sync a fresh replica receives),
 * workerd's RSS before and after, and whether another client of the town noticed: its round-trip
 * latency before and during the flood.
 */
import * as Y from "yjs";
import { ToolCallError, type ToolSocket } from "../../client/tools.ts";
import { LIMITS } from "../../party/protocol.ts";
import { benchTown, closeAll, replica, sleep, toolSocket } from "../lib/fixtures.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { fmt, mb, type Cell } from "../lib/table.ts";

const EIGHT_MIB = 8 * 1024 * 1024;
/** The ceilings docs/security.md states for these documents. */
const MAIL_CEILING = 2.5 * 1024 * 1024;

export const flood: Metric = {
  id: 13,
  name: "flood",
  title: "one-token flood",
  async run(ctx) {
    const seconds = ctx.smoke ? 10 : 60;
    const window = 8;
    const server = await BenchServer.start();
    const sockets: ToolSocket[] = [];
    try {
      const town = await benchTown(server.host, "flood");
      const rig = await town.addRig("alpha");
      const attacker = await town.polecat(rig, "toast");
      const other = await town.addRig("beta");
      const sender = toolSocket(town, "rig", town.rigRoom(rig), attacker.token);
      const bystander = toolSocket(town, "main", town.town, town.operator);
      sockets.push(sender, bystander);
      await Promise.all([sender.ready, bystander.ready]);
      const rssBefore = server.memory().workerdRss;

      // Another client's round trip (the town's rig list), before and during the flood.
      const probe = async (untilMs: number, into: number[]) => {
        while (performance.now() < untilMs) {
          const t0 = performance.now();
          try {
            await bystander.call("gt_list_rigs", {}, 30_000);
            into.push(performance.now() - t0);
          } catch {
            into.push(30_000);
          }
          await sleep(100);
        }
      };
      const calm: number[] = [];
      await probe(performance.now() + 3_000, calm);

      const body = "x".repeat(LIMITS.maxBody);
      const counts = { mailSent: 0, mailAcked: 0, escalationsAcked: 0, limited: 0, errors: 0, otherErrors: [] as string[] };
      const end = performance.now() + seconds * 1000;
      const during: number[] = [];
      const flooding = Array.from({ length: window }, async (_, lane) => {
        for (let i = 0; performance.now() < end; i++) {
          const escalate = (i + lane) % 4 === 3;
          try {
            if (escalate) {
              await sender.call("gt_escalate", { title: `flood ${lane}-${i}`, body: body.slice(0, LIMITS.maxEscalationBody), severity: "low" }, 30_000);
              counts.escalationsAcked++;
            } else {
              counts.mailSent++;
              await sender.call("gt_mail_send", { to: "operator", subject: `flood ${lane}-${i}`, body }, 30_000);
              counts.mailAcked++;
            }
          } catch (error) {
            if (error instanceof ToolCallError && error.code === "RATE_LIMITED") {
              counts.limited++;
              const after = Number((error as ToolCallError & { retryAfter?: number }).retryAfter ?? 1);
              await sleep(Math.min(5_000, after * 1000));
            } else {
              counts.errors++;
              if (counts.otherErrors.length < 3) counts.otherErrors.push(String(error));
              await sleep(100);
            }
          }
        }
      });
      await Promise.all([...flooding, probe(end, during)]);
      await sleep(1_500); // the rig's summary and any queued hops settle

      const rssAfter = server.memory().workerdRss;
      // Fresh replicas: their encoded documents, and how big the first sync was.
      const docs: Cell[][] = [];
      const data: Record<string, unknown> = { counts, rssBefore, rssAfter };
      const townDocs = replica(town, "main", town.town);
      const mailDoc = replica(town, "main", town.town, town.operator, "mail");
      const rigDoc = replica(town, "rig", town.rigRoom(rig));
      const otherDoc = replica(town, "rig", town.rigRoom(other));
      const measured: [string, { whenSynced(): Promise<Y.Doc>; close(): void }][] = [
        ["town document", townDocs],
        ["town mail document", mailDoc],
        [`rig ${rig.name} (the sender's)`, rigDoc],
        [`rig ${other.name} (untouched)`, otherDoc],
      ];
      let townBytes = 0;
      let mailBytes = 0;
      for (const [label, r] of measured) {
        const t0 = performance.now();
        const doc = await Promise.race([r.whenSynced(), sleep(60_000).then(() => null)]);
        const bytes = doc ? Y.encodeStateAsUpdate(doc).byteLength : null;
        if (label === "town document") townBytes = bytes ?? Infinity;
        if (label === "town mail document") mailBytes = bytes ?? Infinity;
        docs.push([label, bytes === null ? "did not sync in 60 s" : mb(bytes), doc ? performance.now() - t0 : "–"]);
        data[label] = bytes;
        r.close();
      }
      const calmS = summarize(calm);
      const duringS = summarize(during);
      const rows: Cell[][] = [
        ["mail sent / acknowledged", `${counts.mailSent} / ${counts.mailAcked}`],
        ["escalations acknowledged", counts.escalationsAcked],
        ["refused RATE_LIMITED", counts.limited],
        ["other errors", `${counts.errors}${counts.otherErrors.length ? ` (${counts.otherErrors.join("; ").slice(0, 200)})` : ""}`],
        ["workerd RSS before → after (MB)", `${fmt(mb(rssBefore))} → ${fmt(mb(rssAfter))}`],
      ];
      const summary: SummaryRow[] = [
        {
          metric: "#13 town document after a one-token flood",
          result: `${fmt(mb(townBytes))} MB`,
          baseline: "8 MiB",
          ratio: townBytes / EIGHT_MIB,
          bar: "≤ 8 MiB",
          met: townBytes <= EIGHT_MIB,
        },
        {
          metric: "#13 town mail document after a one-token flood",
          result: `${fmt(mb(mailBytes))} MB`,
          baseline: "2.5 MiB",
          ratio: mailBytes / MAIL_CEILING,
          bar: "≤ 2.5 MiB",
          met: mailBytes <= MAIL_CEILING,
        },
        {
          metric: "#13 another client's round trip during the flood (p50)",
          result: `${fmt(duringS.p50)} ms (p99 ${fmt(duringS.p99)})`,
          baseline: `${fmt(calmS.p50)} ms before`,
          ratio: calmS.p50 ? duringS.p50 / calmS.p50 : null,
          bar: "unaffected",
          met: null,
        },
      ];
      return {
        params: { seconds, window, bodyBytes: LIMITS.maxBody },
        sections: [
          { title: "What one agent token got through", headers: ["what", "value"], rows },
          { title: "Documents afterwards (a fresh replica each)", headers: ["document", "encoded MB", "synced in ms"], rows: docs },
          {
            title: "Another client (operator, town room: gt_list_rigs)",
            headers: ["when", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            rows: [
              ["before", calmS.n, calmS.p50, calmS.p95, calmS.p99, calmS.max],
              ["during", duringS.n, duringS.p50, duringS.p95, duringS.p99, duringS.max],
            ],
          },
        ],
        summary,
        notes: [],
        data,
      };
    } finally {
      closeAll(sockets);
      await server.close();
    }
  },
};
