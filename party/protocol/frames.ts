/**
 * Frames: what a socket carries as JSON text. Client → server: `call`. Server → client: `result`,
 * `hello`, `event`, `command` and `lease`, and on an output socket `output` and `run`.
 */
import { z } from "zod";
import type { ErrorCode } from "./errors.ts";
import type { Bead, Mail, OutputLine, RunInfo } from "./records.ts";
import type { TokenRole } from "./tokens.ts";

export const callFrame = z.strictObject({
  type: z.literal("call"),
  id: z.string().min(1).max(64),
  tool: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).optional(),
});
export type CallFrame = z.infer<typeof callFrame>;

export type ErrorBody = { code: ErrorCode; message: string; retry_after?: number };
/**
 * The witness's nudge to an agent that made no progress (docs/lifecycle.md, W8): never mail, it
 * rides once on the reply to that agent's next tool call (a result frame or an HTTP reply, whether
 * the call succeeded or not). `at`: when the witness nudged.
 */
export type Nudge = { from: string; at: number; subject: string; body: string };
export type ResultFrame =
  { type: "result"; id: string; ok: true; value: unknown; nudge?: Nudge } | { type: "result"; id: string | null; ok: false; error: ErrorBody; nudge?: Nudge };

/** Sent once to every socket after it is authorised. */
export type HelloFrame = {
  type: "hello";
  protocol: number;
  room: { party: "main" | "rig"; id: string };
  role: TokenRole;
  identity?: string;
};

/** Every `event` an EventFrame may carry (docs/protocol.md documents each; tests/unit/protocol-docs.test.ts checks). */
export const EVENT_TYPES = ["mail"] as const;
/**
 * Pushed to the sockets of one identity. Only mail: the witness's nudge rides on the reply to the
 * agent's next tool call (ResultFrame), and an agent learns of its bead from `start_agent` and gt_prime.
 */
export type EventFrame = { type: "event"; event: "mail"; mail: Mail };
/** EVENT_TYPES and EventFrame name the same events (a compile error otherwise). */
const _eventTypesComplete: [EventFrame["event"], (typeof EVENT_TYPES)[number]] extends [(typeof EVENT_TYPES)[number], EventFrame["event"]] ? true : never =
  true;
void _eventTypesComplete;

/** What a rig room tells its agent process to work on (everything the container needs). */
export type StartAgentCommand = {
  type: "command";
  command: "start_agent";
  id: string;
  /** The lease epoch: acknowledgements carry it back. */
  epoch: number;
  run: string;
  identity: string;
  name: string;
  bead: Bead;
  branch: string;
  rig: { id: string; name: string; defaultBranch: string };
  /** A fresh agent token for this run. */
  token: string;
  /** The model the bead asks for (`bead.model`), which the container uses over the rig's; absent: the rig's. */
  model?: string;
};
/** `attempt`: the room asks again when a merge is not reported in time; merges are idempotent per bead. */
export type MergeCommand = {
  type: "command";
  command: "merge";
  id: string;
  epoch: number;
  bead_id: string;
  branch: string;
  identity: string;
  title: string;
  attempt: number;
};
/** Stops one run; the container reports the exit with its run id. */
export type StopAgentCommand = {
  type: "command";
  command: "stop_agent";
  id: string;
  epoch: number;
  identity: string;
  bead_id: string;
  run: string;
  reason: string;
};
export type CommandFrame = StartAgentCommand | MergeCommand | StopAgentCommand;

/**
 * A container socket's standing in its rig room, sent after the hello and on every change:
 * `held` (commands follow; renew every `renew_ms`, or lose the rig after `ttl_ms`) or `standby`
 * (renew too; the rig is handed over when its holder misses its deadline or releases it).
 */
export type LeaseFrame =
  { type: "lease"; state: "held"; epoch: number; renew_ms: number; ttl_ms: number } | { type: "lease"; state: "standby"; renew_ms: number; ttl_ms: number };

/**
 * Frames of an output socket (`…/output/<identity>`), server → client only: `output` first with the
 * last lines of the current or latest run (run null when there is none), then with each batch of
 * new lines; `run` when a run of that agent starts or ends.
 */
export type OutputFrame = { type: "output"; run: RunInfo | null; lines: OutputLine[] } | { type: "run"; run: RunInfo };

export type ServerFrame = ResultFrame | HelloFrame | EventFrame | CommandFrame | LeaseFrame | OutputFrame;

/** Server → client frames, for clients that parse what they receive. */
const nudge = z.object({ from: z.string(), at: z.number(), subject: z.string(), body: z.string() });
export const serverFrame = z.union([
  z.object({ type: z.literal("result"), id: z.string().nullable(), ok: z.literal(true), value: z.unknown(), nudge: nudge.optional() }),
  z.object({
    type: z.literal("result"),
    id: z.string().nullable(),
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), retry_after: z.number().optional() }),
    nudge: nudge.optional(),
  }),
  z.object({
    type: z.literal("hello"),
    protocol: z.number(),
    room: z.object({ party: z.string(), id: z.string() }),
    role: z.string(),
    identity: z.string().optional(),
  }),
  z.object({ type: z.literal("event"), event: z.string() }).passthrough(),
  z.object({ type: z.literal("command"), command: z.enum(["start_agent", "merge", "stop_agent"]), id: z.string() }).passthrough(),
  z.object({ type: z.literal("lease"), state: z.enum(["held", "standby"]), epoch: z.number().optional(), renew_ms: z.number(), ttl_ms: z.number() }),
]);
