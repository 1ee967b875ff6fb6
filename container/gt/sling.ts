/**
 * `gt sling`: the Mayor creates one bead and the distribution places it; `gt sling <bead> <rig>`,
 * Gas Town's form, moves an existing bead instead (it runs `gt bead move`, an operator's action).
 */
import type { SlingResult } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { splitList } from "./input.ts";

export const sling: Command = {
  name: "sling",
  usage:
    "--title <text> [--body <text>] [--rig <name>] [--requires <cap,cap>] [--priority <low|medium|high|critical>] [--model <name>]   or   <bead> <rig> [--from <rig>] (an operator's move)",
  summary:
    "create one bead; without --rig the Mayor's distribution picks the rig by capabilities and load; prints slung <bead> to <rig>: <reason>. " +
    "gt sling <bead> <rig> moves an existing bead to that rig instead (gt bead move: an operator's action)",
  tool: "gt_sling",
  mode: "mayor",
  arguments: [
    ["[bead]", "an existing bead to move (with <rig>)"],
    ["[target]", "the rig to move it to"],
  ],
  options: [
    ["--title <text>", "what is to be done, in one line"],
    ["--body <text>", "the details the worker needs"],
    ["--rig <name>", "the rig to place it in (default: the Mayor's distribution picks)"],
    ["--requires <caps>", "capabilities the rig must have, comma-separated"],
    ["--priority <priority>", "low, medium (default), high or critical"],
    ["--model <name>", "the model the bead asks for, over its rig's (e.g. claude-opus-4-1)"],
    ["--from <rig>", "with <bead> <rig>: the bead's rig, when the town did not place it"],
  ],
  redirect: (v) => {
    if (v.bead === undefined) {
      if (v.from !== undefined) throw new GtUsageError("--from goes with gt sling <bead> <rig> (moving a bead)");
      return null;
    }
    const creating = ["title", "body", "rig", "requires", "priority", "model"].filter((o) => v[o] !== undefined);
    if (creating.length)
      throw new GtUsageError(`gt sling <bead> <rig> moves an existing bead; ${creating.map((o) => `--${o}`).join(", ")} create a new one: not both`);
    if (v.target === undefined)
      throw new GtUsageError("gt sling <bead> needs the rig to move it to: gt sling <bead> <rig> (a bead is not slung to an agent: its rig dispatches it)");
    if (String(v.target).includes("/")) throw new GtUsageError(`${v.target}: give a rig's name; a bead is not slung to an agent (its rig dispatches it)`);
    return { command: "bead move", values: { id: v.bead, rig: v.target, from: v.from, json: v.json } };
  },
  required: ["title"],
  args: (v) => ({
    title: v.title,
    body: v.body,
    rig: v.rig,
    requires: v.requires === undefined ? undefined : splitList(v.requires),
    priority: v.priority,
    model: v.model,
  }),
  print: (slung: SlingResult) => `slung ${slung.bead_id} to ${slung.rig}: ${slung.reason}`,
};
