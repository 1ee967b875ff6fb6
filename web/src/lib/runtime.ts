/**
 * A rig's agents as the dashboard shows and checks them: the runtime and model its registry entry
 * names (party/town/registry.ts has the rules; the server checks again).
 */
import type { AgentRuntime, Rig } from "../../../party/protocol.ts";
import { MODEL_RE } from "../../../party/protocol/patterns.ts";

/** What each runtime is called where people read it (the registry says `claude`; people know Claude Code). */
export const RUNTIME_NAMES: Record<AgentRuntime, string> = {
  scripted: "the scripted agent",
  command: "a command",
  claude: "Claude Code",
  codex: "Codex",
  gemini: "Gemini CLI",
  opencode: "opencode",
};

/** Runtimes that take no model (the registry refuses one for them). */
export const takesModel = (runtime: string): boolean => runtime !== "scripted" && runtime !== "command";

/**
 * How a rig's agents run: "Claude Code · model claude-sonnet-4-5", "Codex · its default model", or
 * "the container's default runtime" when the registry names none.
 */
export function runtimeLine(rig: Pick<Rig, "runtime" | "model">): string {
  const runtime = rig.runtime ? RUNTIME_NAMES[rig.runtime] : "the container's default runtime";
  if (rig.model) return `${runtime} · model ${rig.model}`;
  // The scripted agent and a command take no model; the container's default may not either.
  return rig.runtime && takesModel(rig.runtime) ? `${runtime} · its default model` : runtime;
}

/** What is wrong with a model typed for a runtime ("" for either: the default), in the app's words, or null. */
export function modelProblem(runtime: string, model: string): string | null {
  if (!model) return null;
  if (!takesModel(runtime)) return `${RUNTIME_NAMES[runtime as AgentRuntime]} takes no model: leave it empty.`.replace(/^./, (c) => c.toUpperCase());
  if (!MODEL_RE.test(model)) return "A model name has letters, digits and . _ : @ / - (e.g. claude-sonnet-4-5), at most 100.";
  return null;
}
