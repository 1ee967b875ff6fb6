/**
 * The rig room's tools: each parses its arguments (the schema did already), says who the call acts
 * as, and turns it into one event of the work machine (party/work/) or a read of the store. No rule
 * of the lifecycle is decided here: what is refused, and why, the machine says.
 */
import { z } from "zod";
import { agentName } from "../agent-output.ts";
import { outputScope, type RoomRef } from "../access.ts";
import { auditWho, withNote, type AuditDraft } from "../audit.ts";
import { newId } from "../ids.ts";
import { tool, type Caller, type LiveServices, type ToolSpec } from "../live/index.ts";
import { routeFromRig } from "../mail.ts";
import {
  LIMITS,
  ToolError,
  parseAddress,
  rigToolArgs,
  type Agent,
  type Bead,
  type BeadStatusResult,
  type MailSendResult,
  type PrimeResult,
} from "../protocol.ts";
import { testFault } from "../internal.ts";
import { checkOutput, tokenRenewalRefusal } from "../work/index.ts";
import type { RigEnv } from "./config.ts";
import type { RigOps } from "./ops.ts";
import type { Relay } from "./relay.ts";
import type { RigParts } from "./steps.ts";
import type { AuditOf } from "./store/index.ts";

export type ToolsHost = RigParts &
  Pick<LiveServices, "rateLimit" | "tokenRefreshTool"> & {
    ops: RigOps;
    relay: Relay;
    env: () => RigEnv;
    roomRef(): RoomRef | null;
  };

const everyone = ["operator", "agent", "container"] as const;
const staff = ["operator", "container"] as const;

export function rigTools(host: ToolsHost): Record<string, ToolSpec<any>> {
  const { store, steps } = host;
  const work = steps.work.bind(steps);
  const rigName = () => store.requireMeta().name;

  const requireAgent = (identity: string): Agent => {
    const agent = store.agent(identity);
    if (!agent) throw new ToolError("UNKNOWN_AGENT", `no agent ${identity} in rig ${rigName()}`);
    return agent;
  };
  const requireBead = (id: string): Bead => {
    const bead = store.bead(id);
    if (!bead) throw new ToolError("UNKNOWN_BEAD", `no bead ${id} in rig ${rigName()}`);
    return bead;
  };
  /** Who a call acts as: an agent only as itself; operators and the container as any local agent. */
  const acting = (caller: Caller, as: string | undefined): string => {
    const { token } = caller;
    if (token.role === "agent") {
      if (as !== undefined && as !== token.agent) throw new ToolError("FORBIDDEN", `an agent acts only as itself (${token.agent})`);
      return token.agent!;
    }
    if (as === undefined) throw new ToolError("INVALID_ARGS", "as: required for operator and container calls (the identity to act as)");
    const address = parseAddress(as);
    if (address?.kind !== "rig" || address.rig !== rigName())
      throw new ToolError("FORBIDDEN", `as: ${as} is not an identity of rig ${rigName()}; operators and the container act as its agents only`);
    return as;
  };
  /** The run an agent's own call names (its token's); others name none. */
  const runOf = (caller: Caller) => (caller.token.role === "agent" ? caller.token.run : undefined);
  const epochOf = (caller: Caller, epoch: number | undefined) => (caller.token.role === "container" ? epoch : null);
  /** An operator's action for the audit trail (the container's and agents' calls are not operators' actions). */
  const by = (caller: Caller, draft: Omit<AuditDraft, "rig">): AuditOf | undefined =>
    caller.token.role === "operator" ? { who: auditWho(caller.token), drafts: [{ ...draft, rig: rigName() }] } : undefined;
  const titled = (id: string) => {
    const bead = store.bead(id);
    return bead ? `bead "${bead.title}"` : `bead ${id}`;
  };

  const sendMail = async (args: z.infer<typeof rigToolArgs.gt_mail_send>, caller: Caller): Promise<MailSendResult> => {
    const meta = store.requireMeta();
    const from =
      caller.token.role === "operator" && (args.as === undefined || args.as === "operator") ? "operator" : requireAgent(acting(caller, args.as)).identity;
    const fields = { id: args.id ?? newId(), from, to: args.to, subject: args.subject, body: args.body };
    const audit = by(caller, {
      action: "mail_send",
      text: `sent mail as ${from} to ${args.to}: "${args.subject}"`,
      ...(store.agent(args.to) ? { agent: args.to } : {}),
    });
    const staged = audit ? store.audit.stage(audit.who, audit.drafts) : undefined;
    // Another rig or the town goes through the town, which resolves rig names.
    const sent = await host
      .post()
      .send(fields, () => routeFromRig(args.to, meta.name, new Map(store.agents().map((a) => [a.identity, a]))).kind === "local", staged);
    return sent;
  };

  return {
    gt_prime: tool(rigToolArgs.gt_prime, everyone, async (args, caller): Promise<PrimeResult> => {
      const agent = requireAgent(acting(caller, args.as));
      const hooked = agent.hook ? store.bead(agent.hook) : undefined;
      const checkpoint = await store.checkpoint(agent);
      return { agent, hook: hooked ? await store.wholeBead(hooked) : null, mail: await host.post().check(agent.identity), checkpoint };
    }),
    gt_mail_send: tool(rigToolArgs.gt_mail_send, everyone, (args, caller) => {
      host.rateLimit(caller, "mail");
      return sendMail(args, caller);
    }),
    gt_mail_read: tool(rigToolArgs.gt_mail_read, everyone, async (args, caller) => host.post().read(requireAgent(acting(caller, args.as)).identity, args.id)),
    gt_mail_check: tool(rigToolArgs.gt_mail_check, everyone, async (args, caller) => host.post().check(requireAgent(acting(caller, args.as)).identity)),
    gt_mail_ack: tool(rigToolArgs.gt_mail_ack, everyone, async (args, caller) => host.post().ack(requireAgent(acting(caller, args.as)).identity, args.ids)),
    gt_bead_create: tool(rigToolArgs.gt_bead_create, ["operator"], (args, caller) => {
      const id = args.id ?? newId();
      return host.ops.createBead(
        {
          id,
          title: args.title,
          body: args.body ?? "",
          priority: args.priority ?? "medium",
          requires: args.requires ?? [],
          ...(args.model ? { model: args.model } : {}),
        },
        () => (store.bead(id) ? undefined : by(caller, { action: "bead_create", text: `created bead "${args.title}"`, bead: id })),
      );
    }),
    gt_bead_status: tool(rigToolArgs.gt_bead_status, everyone, async (args): Promise<BeadStatusResult> => {
      const bead = await store.wholeBead((await store.anyBead(args.bead_id)) ?? requireBead(args.bead_id));
      // An open bead says why it waits while a budget holds the rig's dispatch (W22).
      const hold = store.requireMeta().hold;
      return bead.status === "open" && hold ? { ...bead, hold } : bead;
    }),
    gt_bead_history: tool(rigToolArgs.gt_bead_history, everyone, async (args) => {
      const bead = (await store.anyBead(args.bead_id)) ?? requireBead(args.bead_id);
      return store.beadHistory(bead, args.before, args.limit ?? LIMITS.historyKept);
    }),
    // An agent reads the notes on the escalations it raised (an operator's answer); operators all.
    gt_escalation_list: tool(rigToolArgs.gt_escalation_list, everyone, async (args, caller) => {
      const from = caller.token.role === "agent" || args.as !== undefined ? acting(caller, args.as) : undefined;
      return store
        .escalations()
        .filter(
          (e) =>
            (from === undefined || e.from === from) &&
            (args.bead_id === undefined || e.beadId === args.bead_id) &&
            (args.status === undefined || e.status === args.status),
        )
        .sort((a, b) => b.createdAt - a.createdAt);
    }),
    gt_bead_update: tool(rigToolArgs.gt_bead_update, ["operator"], async (args, caller) => {
      const { bead_id: beadId, assignee, status, ...edits } = args;
      const setsStatus = status === "open" || status === "closed" || status === "failed";
      const changed = [...Object.keys(edits), ...(assignee !== undefined ? ["assignee"] : []), ...(status && !setsStatus ? [`status ${status}`] : [])];
      const audit = () => {
        const bead = titled(beadId);
        const also = changed.length ? ` (${changed.join(", ")})` : "";
        const draft =
          status === "closed"
            ? ({ action: "bead_close", text: `closed ${bead}${also}` } as const)
            : status === "failed"
              ? ({ action: "bead_fail", text: `marked ${bead} failed${also}` } as const)
              : status === "open"
                ? ({ action: "bead_reopen", text: `reopened ${bead}${also}` } as const)
                : ({ action: "bead_update", text: `edited ${bead}: ${changed.join(", ") || "nothing"}` } as const);
        const agent = assignee ?? store.bead(beadId)?.assignee ?? undefined;
        return by(caller, { ...draft, bead: beadId, ...(agent ? { agent } : {}) });
      };
      if (setsStatus) await work({ type: "operator_set_status", beadId, status }, audit);
      await work(
        { type: "bead_edit", beadId, status: status === "in_progress" || status === "in_review" ? status : undefined, edits, assignee },
        setsStatus ? undefined : audit,
      );
      return store.wholeBead(requireBead(beadId));
    }),
    gt_list_beads: tool(rigToolArgs.gt_list_beads, staff, async (args) => store.beads().filter((b) => !args.status || b.status === args.status)),
    gt_list_agents: tool(rigToolArgs.gt_list_agents, staff, async () => store.agents()),
    gt_agent_register: tool(rigToolArgs.gt_agent_register, staff, (args) => work({ type: "agent_register", name: args.name })),
    gt_heartbeat: tool(rigToolArgs.gt_heartbeat, everyone, async (args, caller) => {
      const identity = requireAgent(acting(caller, args.as)).identity;
      await work({ type: "agent_heartbeat", identity, epoch: epochOf(caller, args.epoch), run: runOf(caller) });
      return { at: Date.now() };
    }),
    gt_lease_renew: tool(rigToolArgs.gt_lease_renew, ["container"], (args, caller) =>
      work({
        type: "container_renew",
        connection: caller.connectionId ?? null,
        epoch: args.epoch ?? null,
        agents: (args.agents ?? []).map((a) => ({ identity: a.identity, run: a.run, quietMs: a.quiet_ms })),
      }),
    ),
    gt_lease_release: tool(rigToolArgs.gt_lease_release, ["container"], (args, caller) =>
      work({ type: "container_release", connection: caller.connectionId ?? null, epoch: args.epoch }),
    ),
    gt_checkpoint: tool(rigToolArgs.gt_checkpoint, everyone, async (args, caller) => {
      await store.saveCheckpoint(requireAgent(acting(caller, args.as)), args.data);
      return { saved: args.data.length };
    }),
    gt_escalate: tool(rigToolArgs.gt_escalate, everyone, async (args, caller) => {
      const from = requireAgent(acting(caller, args.as)).identity;
      if (args.bead_id) requireBead(args.bead_id);
      const existing = args.id ? await store.anyEscalation(args.id) : undefined;
      if (existing) return existing; // a retried escalation
      host.rateLimit(caller, "escalation");
      return work({
        type: "escalate",
        escalation: { id: args.id ?? newId(), from, title: args.title, body: args.body ?? "", severity: args.severity, beadId: args.bead_id },
      });
    }),
    // An agent's token lives as long as its run (W21): a process whose run is over gets no new one.
    gt_token_refresh: host.tokenRefreshTool((token) =>
      token.role === "agent" ? tokenRenewalRefusal(token.agent ? store.agent(token.agent) : undefined, token.run) : null,
    ),
    gt_escalation_ack: tool(rigToolArgs.gt_escalation_ack, ["operator"], (args, caller) => updateEscalation(args.id, "acknowledged", args.note, caller)),
    gt_escalation_resolve: tool(rigToolArgs.gt_escalation_resolve, ["operator"], (args, caller) => updateEscalation(args.id, "resolved", args.note, caller)),
    // The operator's actions on work (W14, W15): each one step of the work machine.
    gt_bead_retry: tool(rigToolArgs.gt_bead_retry, ["operator"], async (args, caller) => {
      await work({ type: "operator_retry", beadId: args.bead_id, note: args.note || undefined }, () =>
        by(caller, withNote({ action: "bead_retry", text: `retried ${titled(args.bead_id)}`, bead: args.bead_id }, args.note)),
      );
      return store.wholeBead(requireBead(args.bead_id)); // as stored (with its new rev)
    }),
    gt_agent_stop: tool(rigToolArgs.gt_agent_stop, ["operator"], (args, caller) =>
      work({ type: "operator_stop_agent", identity: args.identity, reason: args.reason || undefined }, () =>
        agentAction(caller, "agent_stop", args.identity, args.reason),
      ),
    ),
    gt_agent_restart: tool(rigToolArgs.gt_agent_restart, ["operator"], (args, caller) =>
      work({ type: "operator_restart_agent", identity: args.identity, reason: args.reason || undefined }, () =>
        agentAction(caller, "agent_restart", args.identity, args.reason),
      ),
    ),
    gt_audit: tool(rigToolArgs.gt_audit, ["operator"], async (args) => {
      store.requireMeta();
      return store.audit.page(args);
    }),
    gt_done: tool(rigToolArgs.gt_done, everyone, (args, caller) =>
      work({ type: "done", identity: acting(caller, args.as), branch: args.branch, summary: args.summary, run: runOf(caller) }),
    ),
    gt_rig_ready: tool(rigToolArgs.gt_rig_ready, ["container"], (args) =>
      work({ type: "clone_reported", epoch: args.epoch, error: args.error, diskBytes: args.disk_bytes, boundary: args.boundary }),
    ),
    gt_agent_started: tool(rigToolArgs.gt_agent_started, ["container"], (args, caller) =>
      work({ type: "agent_started", identity: acting(caller, args.as), beadId: args.bead_id, run: args.run, epoch: args.epoch, pid: args.pid }),
    ),
    gt_agent_exited: tool(rigToolArgs.gt_agent_exited, ["container"], (args, caller) => {
      const exit = args.reason ?? (args.signal ? `signal ${args.signal}` : `exit ${args.code ?? "?"}`);
      const identity = acting(caller, args.as);
      const event = {
        type: "agent_exited",
        identity,
        beadId: args.bead_id,
        run: args.run,
        epoch: args.epoch,
        exit,
        lost: args.lost,
        usage: args.usage,
      } as const;
      // Whether the run's usage was counted is read in the lane, so a report sent again counts it once (W22).
      return work(async () => ({ ...event, counted: args.usage ? await store.usageCounted(args.run) : undefined }));
    }),
    gt_agent_output: tool(rigToolArgs.gt_agent_output, ["container"], async (args) => {
      const known = await store.output.get(args.run);
      checkOutput(store.lease, args.epoch, rigName(), args.identity, store.agent(args.identity), args.run, known);
      const { run, added, changed } = await store.output.append(args.run, args.identity, args.first, args.lines, Date.now());
      host.relay.runs(changed);
      host.relay.lines(run, added);
      return { stored: added.length };
    }),
    gt_agent_log: tool(rigToolArgs.gt_agent_log, ["operator", "viewer"], async (args, caller) => {
      const scope = outputScope(caller.token, requireRef());
      if (!scope) throw new ToolError("FORBIDDEN", "agents' output is for operators and links that name the agent or bead");
      if (args.identity !== undefined && (scope.agent === undefined || agentName(args.identity) === scope.agent)) requireAgent(args.identity);
      if (args.bead_id !== undefined && (scope.bead === undefined || args.bead_id === scope.bead) && !(await store.anyBead(args.bead_id))) {
        throw new ToolError("UNKNOWN_BEAD", `no bead ${args.bead_id} in rig ${rigName()}`);
      }
      // A link's reads are metered (each may copy a whole ring); operators are trusted with theirs.
      if (caller.token.role === "viewer") host.rateLimit(caller, "log");
      return store.output.log(args, scope, (identity) => store.agent(identity)?.run?.id);
    }),
    // The bead as stored right after the report (a bead reopened is dispatched again in the same step), as gt_bead_retry answers.
    gt_merge_result: tool(rigToolArgs.gt_merge_result, ["container"], async (args) => {
      const reply = await work({
        type: "merge_result",
        beadId: args.bead_id,
        epoch: args.epoch,
        ok: args.ok,
        mergeCommit: args.merge_commit,
        failure: args.failure,
        error: args.error,
        conflictFiles: args.conflict_files,
      });
      return store.bead(args.bead_id) ?? reply; // a closed bead may have left the document already
    }),
    ...(host.env().testHooks ? testTools() : {}),
  };

  function updateEscalation(id: string, to: "acknowledged" | "resolved", note: string | undefined, caller: Caller) {
    // An escalation retention moved out is read in the lane, so the step sees it as it is then.
    const stored = async () => (store.escalation(id) ? undefined : await store.archivedEscalation(id));
    const audit = () => {
      const escalation = store.escalation(id);
      const what = escalation ? `escalation "${escalation.title}"` : `escalation ${id}`;
      const about = { ...(escalation?.beadId ? { bead: escalation.beadId } : {}), ...(escalation?.from ? { agent: escalation.from } : {}) };
      const draft =
        to === "acknowledged"
          ? ({ action: "escalation_ack", text: `acknowledged ${what}` } as const)
          : ({ action: "escalation_resolve", text: `resolved ${what}` } as const);
      return by(caller, withNote({ ...draft, ...about }, note));
    };
    return work(async () => ({ type: "escalation_update" as const, id, to, note: note || undefined, stored: await stored() }), audit);
  }

  function agentAction(caller: Caller, action: "agent_stop" | "agent_restart", identity: string, reason: string | undefined): AuditOf | undefined {
    const hook = store.agent(identity)?.hook;
    const text = `${action === "agent_stop" ? "stopped" : "restarted"} agent ${identity}${hook ? ` (on ${titled(hook)})` : ""}`;
    return by(caller, withNote({ action, text, agent: identity, ...(hook ? { bead: hook } : {}) }, reason));
  }

  function requireRef(): RoomRef {
    const ref = host.roomRef();
    if (!ref) throw new ToolError("UNKNOWN_RIG", `rig room ${host.roomId()} does not exist (never added, or removed)`);
    return ref;
  }

  function testTools(): Record<string, ToolSpec<any>> {
    return {
      gt_test_fault: tool(testFault, ["operator"], async (args) => {
        host.ops.failHops = args.fail_hops ?? host.ops.failHops;
        host.ops.dropNotices = args.drop_notices ?? host.ops.dropNotices;
        return { fail_hops: host.ops.failHops, drop_notices: host.ops.dropNotices, outbox: store.outbox.size };
      }),
      // Outbox entries come and go with deliveries (and a window's merged feed line waits for its end).
      gt_test_storage: tool(z.strictObject({}), ["operator"], async () => store.keyCounts()),
    };
  }
}
