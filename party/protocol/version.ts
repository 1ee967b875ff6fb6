/**
 * The wire protocol's version. A change to anything on the wire bumps it, with a line in the history
 * below: tests/unit/protocol-version.test.ts fingerprints the schemas, so a change cannot slip in
 * unnoticed.
 *
 * Protocol history:
 *   1 — tool calls over JSON text frames and HTTP, Yjs sync over binary frames, mail and beads.
 *   2 — the town container: dispatch, commands to the container, done/merge, witness, escalations.
 *   3 — convoys, slinging with the Mayor's distribution, gt_rig_update, the Mayor as an agent.
 *   4 — the work lifecycle: container leases (epochs, renewals, standbys, 4408), runs in agent
 *       tokens and acknowledgements, merge deadlines and failures, hung agents, mail acknowledged
 *       with gt_mail_ack.
 *   5 — least privilege: HS256 JWT tokens (aud, jti, rig/rigs, view); document sockets at
 *       /docs/<name> (y-protocols only) and the town's mail as a document of its own; share links
 *       for one view, listed and revoked; expiry and revocation close open sockets; per-token rate
 *       limits (RATE_LIMITED with retry_after); long bodies as previews; gt_mail_read;
 *       gt_token_refresh; 4205, 4420.
 *       Since, within 5 (additions only): agents' output (gt_agent_output, gt_agent_log, output
 *       sockets at /output/<identity>, OutputFrame); the operator's actions (gt_bead_retry,
 *       gt_agent_stop, gt_agent_restart, gt_escalation_ack, notes on gt_escalation_resolve,
 *       gt_bead_move; escalation status `acknowledged`, movedTo/movedFrom); rig summaries'
 *       polecats, attention and closedByHour; feed tones; ConvoyBead.doneAt. NOT_FOUND and
 *       METHOD_NOT_ALLOWED for HTTP routes (were BAD_FRAME); the never-sent events nudge and hook
 *       removed (EVENT_TYPES); idempotent repeats of gt_done and gt_merge_result (docs/protocol.md).
 *       Document lineages for standard Yjs providers (a step 2 hands a replica over from an earlier
 *       lineage; 4409 for one holding refused writes; awareness answered with no one); beads'
 *       historyCount (the document holds the last LIMITS.historyInDoc status changes). Refused since:
 *       tokens living over 30 days or issued over 60 s ahead (4401), a viewer token's 17th and a
 *       share link's 65th socket in a room (4429), a rig room the registry does not know, at the
 *       gate (404 UNKNOWN_RIG, 4404).
 *   6 — the rig boundary: gt_rig_ready says what of it the container enforces (`boundary`), and
 *       rig summaries carry it.
 *   7 — agents that are coding CLIs: a rig's runtime and model in the registry (gt_rig_add,
 *       gt_rig_update), a bead's model (gt_sling, gt_convoy_create, gt_bead_create), and each run's
 *       usage (gt_agent_exited, RunInfo); daily budgets (gt_budget_set) and the town's costs
 *       (gt_costs); the witness's nudge is no longer mail: it rides once on the reply to the agent's
 *       next tool call (`nudge` beside `value` or `error`); a preset runtime's output lines say what
 *       they are (OutputLine.kind, ok).
 *   8 — a link reveals nothing outside its view's rig(s): the town document is for town-wide tokens,
 *       town and mail links and containers; rig, bead and agent links and rig-scoped viewers read
 *       their rig's document only; convoy links and rig-scoped operators read the town's `scope`
 *       document (/docs/scope: their convoy; their rigs and the convoys those are in). gt_audit in
 *       both rooms (operators): who did what, paged (AuditPage, AuditEntry). Outgoing webhooks per town:
 *       gt_webhook_add, gt_webhook_list, gt_webhook_remove and gt_webhook_test (town-wide operators),
 *       deliveries signed with HMAC-SHA256 and a stable id. A bead's whole status history a page at a
 *       time (gt_bead_history, BeadHistoryPage); escalations keep every note (Escalation.notes) and
 *       are listed with them (gt_escalation_list: an agent reads the answers to its own); an agent's
 *       `lastRun` (the run its `lastExit` is about); a bead's read of gt_agent_log says which runs
 *       aged out (`aged`).
 *       Convoy status `stuck` (every bead finished, at least one failed; `landed` only when every
 *       bead is closed; a retry or a moved bead's successor opens it again) and convoy progress's
 *       `failed` counts (overall and per rig; `done` is closed beads only); escalations'
 *       `cause` (`bead_failed`: raised by the machine, resolved by it when the bead is retried,
 *       closed or moved, W23); attention items' `beadId` and kind `stuck_convoy`; feed lines'
 *       `nudges` (a rig's feed holds one line per agent for the witness's nudges).
 */
export const PROTOCOL_VERSION = 8;
