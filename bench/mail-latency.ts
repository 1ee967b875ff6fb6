/**
 * Cross-rig mail latency (docs/benchmarks.md #2, first cut): an agent in rig A sends to an agent in rig B over
 * real `partykit dev`; we time send → sender's ack and send → recipient's `mail` event, on this
 * process's clock. Baseline in the same run: a round trip of one tool call that does not leave its
 * room (`gt_heartbeat`).  Usage: npx tsx bench/mail-latency.ts [count]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventFrame } from "../party/protocol.ts";
import { startPartykit } from "../tests/helpers/partykit.ts";
import { makeTown } from "../tests/helpers/town.ts";

const COUNT = Number(process.argv[2] ?? 100);
const SECRET = "bench-secret-0123456789abcdef";
const dir = mkdtempSync(join(tmpdir(), "townhall-bench-"));
const server = await startPartykit({ persistDir: dir, vars: { GT_SECRET: SECRET } });
try {
  const town = await makeTown(server.host, SECRET, "bench");
  const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
  const toast = await town.polecat(a, "toast");
  const maple = await town.polecat(b, "maple");
  const sender = town.agentSocket(a, toast.token);
  const recipient = town.agentSocket(b, maple.token);
  await Promise.all([sender.ready, recipient.ready]);

  const arrivals = new Map<string, (t: number) => void>();
  recipient.onEvent((e: EventFrame) => {
    if (e.event === "mail") arrivals.get(e.mail.subject)?.(performance.now());
  });
  const ack: number[] = [];
  const event: number[] = [];
  const local: number[] = [];
  for (let i = -10; i < COUNT; i++) {
    const subject = `probe ${i}`;
    const arrived = new Promise<number>((resolve) => arrivals.set(subject, resolve));
    const t0 = performance.now();
    await sender.call("gt_mail_send", { to: maple.identity, subject, body: "" });
    const t1 = performance.now();
    const t2 = await arrived;
    const t3 = performance.now();
    await sender.call("gt_heartbeat");
    const t4 = performance.now();
    if (i < 0) continue; // warm-up
    ack.push(t1 - t0);
    event.push(t2 - t0);
    local.push(t4 - t3);
  }
  const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
  const row = (name: string, xs: number[]) =>
    `| ${name.padEnd(34)} | ${[50, 95, 99].map((p) => pct(xs, p).toFixed(2).padStart(7)).join(" | ")} | ${Math.max(...xs)
      .toFixed(2)
      .padStart(7)} |`;
  console.log(`cross-rig mail, ${COUNT} sends, loopback, ms`);
  console.log(`| ${"metric".padEnd(34)} |     p50 |     p95 |     p99 |     max |`);
  console.log(`|${"-".repeat(36)}|---------|---------|---------|---------|`);
  console.log(row("baseline: in-room tool round trip", local));
  console.log(row("send → sender's delivered ack", ack));
  console.log(row("send → recipient's mail event", event));
  town.closeAll();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
