/**
 * gt's commands, each defined in its group's file, in the order `gt help` lists them (and a group's
 * help its subcommands). A new command is an entry in its group's file and one here.
 */
import { agentLog, agentRestart, agentStop } from "./agent.ts";
import { audit } from "./audit.ts";
import { beadHistory, beadMove, beadRetry, beadStatus } from "./bead.ts";
import { checkpoint } from "./checkpoint.ts";
import type { Command } from "./command.ts";
import { convoyCreate, convoyList, convoyStatus } from "./convoy.ts";
import { budgetClear, budgetSet, costs } from "./costs.ts";
import { done } from "./done.ts";
import { escalate, escalationAck, escalationList, escalationResolve } from "./escalation.ts";
import { mailCheck, mailInbox, mailRead, mailReply, mailSend } from "./mail.ts";
import { hook, prime } from "./prime.ts";
import { rigList, rigStatus, rigs } from "./rig.ts";
import { sling } from "./sling.ts";
import { webhookAdd, webhookList, webhookRemove, webhookTest } from "./webhook.ts";

export const COMMANDS: readonly Command[] = [
  prime,
  hook,
  mailSend,
  mailCheck,
  mailInbox,
  mailRead,
  mailReply,
  beadStatus,
  beadHistory,
  done,
  escalate,
  escalationList,
  checkpoint,
  // The Mayor's commands (GT_AGENT=mayor), in the town room.
  sling,
  convoyCreate,
  convoyStatus,
  convoyList,
  rigs,
  rigList,
  rigStatus,
  // An operator's commands (GT_TOKEN an operator token): the dashboard's actions, the same tools.
  beadRetry,
  beadMove,
  agentStop,
  agentRestart,
  escalationAck,
  escalationResolve,
  // Operators' reads of a rig (GT_TOKEN an operator token; the room refuses agents).
  agentLog,
  // An operator's costs and budgets (town tools).
  costs,
  budgetSet,
  budgetClear,
  // Who did what (a rig's trail, or the town's).
  audit,
  // A town-wide operator's outgoing webhooks (town tools).
  webhookAdd,
  webhookList,
  webhookRemove,
  webhookTest,
];

const BY_NAME = new Map(COMMANDS.map((command) => [command.name, command]));

/** The command of that name (its words after `gt`), if there is one. */
export const lookup = (name: string): Command | undefined => BY_NAME.get(name);
