/**
 * #10 malformed input: per seed, 10,000 frames (random text, truncated calls, unknown tools, bad
 * args, wrong shapes, random and sync-like binary, oversize and over the hard limit) sent by
 * offender sockets one frame at a time (each waits for its answer: a typed error reply, a typed
 * close, or nothing where the protocol ignores the frame). Five well-behaved agents keep calling
 * tools throughout; every one of their calls must succeed. Baseline: the same agents' calls
 * without the fuzz.
 */
import WebSocket from "ws";
import type { ToolSocket } from "../../client/tools.ts";
import { LIMITS } from "../../party/protocol.ts";
import { CpuMeter } from "../lib/cpu.ts";
import { benchTown, closeAll, createBeads, operatorSockets, sleep, toolSocket, type TestTown } from "../lib/fixtures.ts";
import { LATENCY_HEADERS, latencyRow, type Metric, type SummaryRow } from "../lib/report.ts";
import { Rng } from "../lib/rng.ts";
import { BenchServer } from "../lib/server.ts";
import { summarize } from "../lib/stats.ts";
import { fmt, type Cell } from "../lib/table.ts";

const TYPED_CLOSES = new Set([4400, 4403, 4413]);
const KINDS = [
  "random text",
  "truncated call",
  "unknown tool",
  "invalid args",
  "wrong shape",
  "random binary",
  "sync-like binary",
  "oversize text",
  "over hard limit",
  "over 1 MiB",
] as const;
type Kind = (typeof KINDS)[number];
const WEIGHTS: Record<Kind, number> = {
  "random text": 20,
  "truncated call": 15,
  "unknown tool": 15,
  "invalid args": 10,
  "wrong shape": 10,
  "random binary": 12,
  "sync-like binary": 12,
  "oversize text": 4,
  "over hard limit": 2,
  "over 1 MiB": 0.5,
};
const TOOLS = ["gt_prime", "gt_mail_send", "gt_mail_check", "gt_bead_status", "gt_heartbeat", "gt_done", "gt_escalate", "gt_checkpoint"];

type Frame = { kind: Kind; data: string | Uint8Array; binary: boolean; ignorable: boolean };
type Outcome = "typed error" | "typed close" | "runtime close 1009" | "answered" | "ignored (by design)" | "unanswered" | "untyped close" | "INTERNAL";
const OUTCOMES: Outcome[] = ["typed error", "typed close", "runtime close 1009", "answered", "ignored (by design)", "unanswered", "untyped close", "INTERNAL"];

function pickKind(rng: Rng): Kind {
  let r = rng.next() * Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  for (const k of KINDS) if ((r -= WEIGHTS[k]) < 0) return k;
  return "random text";
}

function makeFrame(rng: Rng, k: number): Frame {
  const kind = pickKind(rng);
  const call = () =>
    JSON.stringify({
      type: "call",
      id: `f${k}`,
      tool: rng.pick(TOOLS),
      args: { subject: rng.words(3), to: "beta/polecats/maple", body: rng.text(rng.int(0, 200)) },
    });
  // ASCII only, so the byte size is the character count (the limits are in bytes).
  const big = (n: number) => {
    const chunk = rng.text(97).replace(/[^\x20-\x7e]/g, "x");
    return JSON.stringify({ type: "call", id: `f${k}`, tool: "gt_checkpoint", args: { data: chunk.repeat(Math.ceil(n / chunk.length)).slice(0, n) } });
  };
  switch (kind) {
    case "random text":
      return { kind, data: rng.text(rng.int(0, 2000)), binary: false, ignorable: false };
    case "truncated call": {
      const full = call();
      return { kind, data: full.slice(0, rng.int(1, full.length - 1)), binary: false, ignorable: false };
    }
    case "unknown tool":
      return {
        kind,
        data: JSON.stringify({ type: "call", id: `f${k}`, tool: `gt_${rng.words(2).replace(/ /g, "_")}_${rng.int(0, 1e6)}`, args: {} }),
        binary: false,
        ignorable: false,
      };
    case "invalid args": {
      const tool = rng.pick(["gt_mail_send", "gt_escalate", "gt_bead_status", "gt_done", "gt_checkpoint"]);
      const args = rng.pick([
        { to: 5 },
        { severity: "nope", title: "" },
        { bead_id: "not-a-ulid" },
        { branch: 7 },
        { data: ["x"] },
        { extra: true },
        { as: "not an address" },
      ]);
      return { kind, data: JSON.stringify({ type: "call", id: `f${k}`, tool, args }), binary: false, ignorable: false };
    }
    case "wrong shape":
      return {
        kind,
        data: rng.pick([
          "null",
          "42",
          "[]",
          '"call"',
          '{"type":"result","id":"x","ok":true}',
          '{"type":"call"}',
          `{"type":"call","id":${k},"tool":"gt_prime"}`,
          '{"type":"call","id":"x","tool":5,"args":{}}',
          "{}",
          "true",
        ]),
        binary: false,
        ignorable: false,
      };
    case "random binary": {
      const bytes = rng.bytes(rng.int(1, 512));
      return { kind, data: bytes, binary: true, ignorable: bytes[0] === 1 };
    }
    case "sync-like binary": {
      const bytes = rng.bytes(rng.int(2, 256));
      bytes[0] = 0;
      bytes[1] = rng.int(0, 3);
      return { kind, data: bytes, binary: true, ignorable: false };
    }
    case "oversize text":
      return { kind, data: big(rng.int(LIMITS.maxFrameBytes + 1, LIMITS.hardFrameBytes - 1024)), binary: false, ignorable: false };
    case "over hard limit":
      return { kind, data: big(rng.int(LIMITS.hardFrameBytes + 1024, 1000 * 1024)), binary: false, ignorable: false };
    case "over 1 MiB":
      return { kind, data: big(rng.int(1024 * 1024 + 1024, 1200 * 1024)), binary: false, ignorable: false };
  }
}

/** One offender connection: sends a frame, waits for its answer, a close, or silence. */
class Offender {
  private ws: WebSocket | null = null;
  private waiter: ((o: { text?: string; binary?: boolean; close?: number } | null) => void) | null = null;
  private closed: number | null = null;
  opened = 0;
  constructor(private readonly url: string) {}

  private async open(): Promise<void> {
    this.closed = null;
    const ws = new WebSocket(this.url, { maxPayload: 4 << 20 });
    this.ws = ws;
    this.opened++;
    let hello: () => void;
    const helloSeen = new Promise<void>((r) => (hello = r));
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? undefined : data.toString();
      if (text?.startsWith('{"type":"hello"')) return hello();
      const w = this.waiter;
      this.waiter = null;
      w?.(isBinary ? { binary: true } : { text: text! });
    });
    ws.on("close", (code) => {
      this.closed = code;
      const w = this.waiter;
      this.waiter = null;
      w?.({ close: code });
      hello();
    });
    ws.on("error", () => {});
    await helloSeen;
    if (this.closed !== null) throw new Error(`offender socket closed ${this.closed} before hello`);
  }

  async send(frame: Frame): Promise<Outcome> {
    if (!this.ws || this.closed !== null) await this.open();
    const answer = new Promise<{ text?: string; binary?: boolean; close?: number } | null>((resolve) => {
      this.waiter = resolve;
      setTimeout(
        () => {
          if (this.waiter === resolve) {
            this.waiter = null;
            resolve(null);
          }
        },
        frame.ignorable ? 150 : 3000,
      );
    });
    this.ws!.send(frame.data, { binary: frame.binary });
    const a = await answer;
    if (a === null) return frame.ignorable ? "ignored (by design)" : "unanswered";
    if (a.close !== undefined) return TYPED_CLOSES.has(a.close) ? "typed close" : a.close === 1009 ? "runtime close 1009" : "untyped close";
    if (a.binary) return "answered";
    try {
      const reply = JSON.parse(a.text!) as { type: string; ok?: boolean; error?: { code: string } };
      if (reply.type === "result" && reply.ok === false && reply.error?.code === "INTERNAL") return "INTERNAL";
      if (reply.type === "result" && reply.ok === false && reply.error?.code) {
        // A typed error; if the socket is being closed for it (4403 binary, 4400 strikes), the close follows.
        return "typed error";
      }
      return "answered";
    } catch {
      return "unanswered";
    }
  }

  close(): void {
    this.ws?.close();
  }
}

/** Well-behaved agents calling tools in a loop until stopped. */
function bystanders(sockets: ToolSocket[], beadId: string) {
  let running = true;
  const latencies: number[] = [];
  let errors = 0;
  const loops = sockets.map(async (s, i) => {
    for (let k = 0; running; k++) {
      const [tool, args] = (
        [
          ["gt_heartbeat", {}],
          ["gt_mail_check", {}],
          ["gt_prime", {}],
          ["gt_bead_status", { bead_id: beadId }],
        ] as const
      )[(k + i) % 4]!;
      const t0 = performance.now();
      try {
        await s.call(tool, args);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
      await sleep(5);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { latencies, errors };
    },
  };
}

export const fuzz: Metric = {
  id: 10,
  name: "malformed-input",
  title: "malformed input",
  async run(ctx) {
    const seeds = ctx.smoke ? [1] : [1, 2, 3];
    const perSeed = ctx.smoke ? 1000 : 10_000;
    const lanes = 8;
    const server = await BenchServer.start();
    server.watch("room errors", /frame from \S+ failed/);
    server.watch("send after close", /frame from \S+ failed.*send\(\) after close/);
    const rows: Cell[][] = [];
    const outcomes: Cell[][] = [];
    const byKind: Cell[][] = [];
    const summary: SummaryRow[] = [];
    const data: Record<string, unknown> = {};
    const notes: string[] = [];
    let good: ToolSocket[] = [];
    let town: TestTown | null = null;
    try {
      town = await benchTown(server.host, "fuzz");
      const rig = await town.addRig("fuzz");
      const room = town.rigRoom(rig);
      const [op] = await operatorSockets(town, rig, 1);
      const beadId = (await createBeads([op!], 5, new Rng(1))).ids[0]!;
      op!.close();
      const offenderAgent = await town.polecat(rig, "offender");
      const polecats = await Promise.all(Array.from({ length: 5 }, (_, i) => town!.polecat(rig, `good${i}`)));
      good = polecats.map((p) => toolSocket(town!, "rig", room, p.token));
      await Promise.all(good.map((s) => s.ready));
      const workerd0 = server.workerdPid();

      // Baseline: the same calls without the fuzz.
      const base = bystanders(good, beadId);
      await sleep(ctx.smoke ? 1500 : 4000);
      const baseline = await base.stop();
      const bs = summarize(baseline.latencies);
      rows.push(latencyRow("baseline: 5 agents' calls, no fuzz", bs, 0, baseline.errors, null, null));

      for (const seed of seeds) {
        ctx.log(`#10 seed ${seed}: ${perSeed} frames`);
        const rng = new Rng(seed);
        const frames = Array.from({ length: perSeed }, (_, k) => makeFrame(rng, k));
        const offenders = Array.from({ length: lanes }, () => ({
          agent: new Offender(`ws://${server.host}/parties/rig/${room}?token=${offenderAgent.token}`),
          viewer: new Offender(`ws://${server.host}/parties/rig/${room}?token=${town!.viewer}`),
        }));
        const counts = new Map<Outcome, number>();
        const kindCounts = new Map<string, Map<Outcome, number>>();
        const during = bystanders(good, beadId);
        const meter = new CpuMeter(() => server.pgid);
        let next = 0;
        const errors0 = server.matches("room errors").n;
        const sac0 = server.matches("send after close").n;
        await Promise.all(
          offenders.map(async (o) => {
            while (next < frames.length) {
              const frame = frames[next++]!;
              // Binary frames from the viewer (dashboards replicate); text from the agent.
              const outcome = await (frame.binary ? o.viewer : o.agent).send(frame);
              counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
              const m = kindCounts.get(frame.kind) ?? new Map<Outcome, number>();
              m.set(outcome, (m.get(outcome) ?? 0) + 1);
              kindCounts.set(frame.kind, m);
            }
          }),
        );
        const cpu = meter.stop();
        const result = await during.stop();
        const sockets = offenders.reduce((s, o) => s + o.agent.opened + o.viewer.opened, 0);
        offenders.forEach((o) => (o.agent.close(), o.viewer.close()));
        await sleep(300);
        const roomErrors = server.matches("room errors").n - errors0;
        const sendAfterClose = server.matches("send after close").n - sac0;
        const status = await fetch(`http://${server.host}/parties/rig/${room}`).then(
          (r) => r.status,
          () => 0,
        );
        const up = status === 200 && server.workerdPid() === workerd0;
        const failures = (counts.get("unanswered") ?? 0) + (counts.get("untyped close") ?? 0) + (counts.get("INTERNAL") ?? 0);
        const s = summarize(result.latencies);
        rows.push(latencyRow(`seed ${seed}: 5 agents' calls during the fuzz`, s, 0, result.errors, cpu, bs.p50));
        const get = (o: Outcome) => counts.get(o) ?? 0;
        outcomes.push([
          seed,
          perSeed,
          sockets,
          ...OUTCOMES.map(get),
          `${roomErrors} (${sendAfterClose} send() after close)`,
          up ? "yes" : "**no**",
          `${result.latencies.length} ok, ${result.errors} failed`,
          perSeed / cpu.wallS,
        ]);
        if (seed === seeds[0])
          for (const kind of KINDS) {
            const m = kindCounts.get(kind);
            if (m) byKind.push([kind, [...m.values()].reduce((a, b) => a + b, 0), ...OUTCOMES.map((o) => m.get(o) ?? 0)]);
          }
        data[`seed${seed}`] = { counts: Object.fromEntries(counts), sockets, up, roomErrors, sendAfterClose, bystanders: { ...s, errors: result.errors }, cpu };
        summary.push({
          metric: `#10 malformed input, seed ${seed} (${fmt(perSeed)} frames)`,
          result: `server up: ${up ? "yes" : "no"}; ${fmt(get("typed error") + get("typed close") + get("runtime close 1009"))} typed errors/closes, ${get("ignored (by design)")} ignored by design, ${failures} untyped/unanswered/INTERNAL; ${roomErrors} room errors logged; bystanders ${result.errors} failed, p50 ${fmt(s.p50)} ms`,
          baseline: `bystanders without fuzz p50 ${fmt(bs.p50)} ms`,
          ratio: s.p50 / bs.p50,
          bar: "server up, offender typed, others unaffected",
          met: up && failures === 0 && result.errors === 0,
        });
      }
      data.serverErrors = server.matches("room errors").first;
      notes.push(
        `${lanes} offender lanes, each with an agent-token socket (text frames) and a viewer-token socket (binary frames: dashboards may send sync frames; an agent's binary frame is refused at once with 4403), one frame at a time; a closed socket is reopened for the next frame. 20 bad frames within 10 s close a socket with 4400, so each offender socket lives for at most 21 frames.`,
        "Outcomes per frame: typed error = a result frame with ok:false and an error code; typed close = the socket closed with 4400, 4403 or 4413 before an answer; answered = a normal reply (e.g. a sync step 2 to a well-formed sync step 1); ignored (by design) = awareness frames (binary type 1), which the protocol ignores, no answer in 150 ms; unanswered = nothing within 3 s (a failure).",
        'Room errors logged = the room\'s own "frame from … failed" lines (an exception while handling a frame). workerd also logs one "disconnected … Request failed due to internal error" line for every socket the room closes; those are not counted. Frames over 1 MiB are closed by the runtime with 1009 before the room sees them (docs/protocol.md).',
        `Bystanders: 5 agent ToolSockets calling gt_heartbeat, gt_mail_check, gt_prime and gt_bead_status in turn, 5 ms apart.`,
      );
    } finally {
      closeAll(good);
      town?.closeAll();
      await server.close();
    }
    return {
      params: { seeds, framesPerSeed: perSeed, lanes, weights: WEIGHTS },
      sections: [
        {
          title: "every frame's outcome",
          headers: ["seed", "frames", "offender sockets", ...OUTCOMES, "room errors logged", "server up", "bystander calls", "frames/s"],
          rows: outcomes,
        },
        { title: `outcome by frame kind (seed ${seeds[0]})`, headers: ["kind", "frames", ...OUTCOMES], rows: byKind },
        { title: "well-behaved agents alongside (ms)", headers: LATENCY_HEADERS, rows },
      ],
      summary,
      notes,
      data,
    };
  },
};
