/** `gt rigs` (`gt rig list`) and `gt rig status`: the Mayor's view of the town's rigs and their load. */
import type { Rig } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { when } from "./output.ts";

const printRigs = (rigs: Rig[]) => (rigs.length ? rigs.map(printRigLine).join("\n") : "no rigs in this town yet (an operator adds them)");

export const rigs: Command = {
  name: "rigs",
  usage: "[--json]",
  summary: "the town's rigs: status, capabilities and load (active beads per polecat), runtime and model, bead and agent counts",
  tool: "gt_list_rigs",
  mode: "mayor",
  print: printRigs,
};

export const rigList: Command = {
  name: "rig list",
  usage: "[--json]",
  summary: "the same as gt rigs",
  tool: "gt_list_rigs",
  mode: "mayor",
  print: printRigs,
};

export const rigStatus: Command = {
  name: "rig status",
  usage: "<name>",
  summary: "one rig in detail: status, capabilities, runtime and model, load, beads, agents, mail, escalations",
  tool: "gt_rig_status",
  mode: "mayor",
  arguments: [["<name>", "the rig's name"]],
  args: (v) => ({ name: v.name }),
  print: printRig,
};

/** A rig's load as the Mayor's distribution counts it: open, in progress and in review beads per polecat slot. */
function loadOf(rig: Rig): string {
  const { open, in_progress, in_review } = rig.summary.beads;
  const active = open + in_progress + in_review;
  return `${(active / rig.maxPolecats).toFixed(2)} (${active} active / ${rig.maxPolecats} polecats)`;
}

const counts = (record: Record<string, number>, none: string) =>
  Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ") || none;

/** How its agents run: the registry's runtime and model, or the defaults that then apply. */
function agentsOf(rig: Rig): string {
  return `${rig.runtime ?? "the container's default"}, model ${rig.model ?? "the runtime's default"}`;
}

function printRigLine(rig: Rig): string {
  return [
    `${rig.name}: ${rig.status}; capabilities: ${rig.capabilities.join(", ") || "none"}; load ${loadOf(rig)}`,
    `  runtime: ${agentsOf(rig)}`,
    `  beads: ${counts(rig.summary.beads, "none")}; polecats: ${counts(rig.summary.polecats ?? rig.summary.agents, "none")}`,
  ].join("\n");
}

function printRig(rig: Rig): string {
  const s = rig.summary;
  return [
    `Rig ${rig.name} (${rig.id}): ${rig.status}`,
    `capabilities: ${rig.capabilities.join(", ") || "none"}; max polecats: ${rig.maxPolecats}`,
    `runtime: ${agentsOf(rig)} (a change applies from the next run)`,
    `load: ${loadOf(rig)}`,
    `beads: ${counts(s.beads, "none")}`,
    `polecats: ${counts(s.polecats ?? s.agents, "none")}`,
    `queued or unread mail: ${s.queuedMail}; open escalations: ${s.openEscalations ?? 0}`,
    ...(s.closedByHour ? [`closed in the last 24 h: ${s.closedByHour.reduce((a, b) => a + b, 0)}`] : []),
    ...(s.attention?.length ? ["needs attention:", ...s.attention.map((a) => `  ${a.kind} ${a.id}: ${a.title} (${a.detail})`)] : []),
    `last activity: ${when(s.lastActivity ?? undefined) || "none"}; disk: ${s.diskBytes === null ? "unknown" : `${s.diskBytes} bytes`}`,
    `git: ${rig.gitUrl} (${rig.defaultBranch})`,
  ].join("\n");
}
