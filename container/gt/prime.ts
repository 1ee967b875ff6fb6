/** `gt prime` and `gt hook`: a rig agent's start (who it is, its hooked bead, its mail, its notes), both from gt_prime. */
import type { Bead, PrimeResult } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import type { GtEnv } from "./env.ts";
import { printMail } from "./mail.ts";
import { indent } from "./output.ts";

export const prime: Command = {
  name: "prime",
  usage: "[--json]",
  summary: "who you are, your hooked bead, your unread mail (not marked read) and your checkpoint",
  tool: "gt_prime",
  mode: "rig",
  print: printPrime,
};

export const hook: Command = {
  name: "hook",
  usage: "[--json]",
  summary: "your hooked bead (your task), as gt prime shows it; --json prints the bead, or null",
  tool: "gt_prime",
  mode: "rig",
  json: (prime: PrimeResult) => prime.hook,
  print: (prime: PrimeResult) => printHook(prime.hook),
};

/** The hooked bead as prime and hook show it: id and title, status line, body. */
function hookLines(hook: Bead): string[] {
  const out = [`Your hooked bead (your task) ${hook.id}: ${hook.title}`];
  out.push(
    `  status: ${hook.status}, priority: ${hook.priority}${hook.branch ? `, branch: ${hook.branch}` : ""}${hook.requires.length ? `, requires: ${hook.requires.join(", ")}` : ""}`,
  );
  if (hook.body.trim()) out.push("", indent(hook.body.trimEnd()));
  return out;
}

/** What `gt prime` prints: also the prompt the container gives a preset runtime's agent (container/preset-run.ts). */
export function primeText(prime: PrimeResult, env: Pick<GtEnv, "town" | "agent">): string {
  return printPrime(prime, env);
}

function printPrime(prime: PrimeResult, env: Pick<GtEnv, "town" | "agent">): string {
  const { agent, hook, mail } = prime;
  const rig = agent.identity.split("/")[0];
  const out = [`You are ${agent.identity}, the ${agent.role} ${agent.name} of rig ${rig} in town ${env.town} (status: ${agent.status}).`];
  if (env.agent && env.agent !== agent.identity) out.push(`Warning: GT_AGENT says ${env.agent}, but your token acts as ${agent.identity}.`);
  out.push("");
  if (hook) {
    out.push(...hookLines(hook));
  } else {
    out.push("No bead is hooked: nothing is assigned to you right now.");
  }
  out.push("");
  if (mail.length) {
    out.push(`Unread mail (${mail.length}); gt mail check shows it again and marks it read:`);
    for (const m of mail) out.push("", indent(printMail(m)));
  } else {
    out.push("No unread mail.");
  }
  if (prime.checkpoint) out.push("", "Your checkpoint (notes you saved earlier):", indent(prime.checkpoint.trimEnd()));
  out.push(
    "",
    'Next: do the work in this worktree and commit it, then run gt done. Blocked: gt escalate "<what blocks you>" [-s high].',
    'Save notes with gt checkpoint --data <text>; talk to others with gt mail send <address> -s "<subject>" -m "<message>" (mayor/, <rig>/<name>, --human).',
  );
  return out.join("\n");
}

function printHook(hook: Bead | null): string {
  return hook ? hookLines(hook).join("\n") : "Nothing is on your hook: no bead is assigned to you right now.";
}
