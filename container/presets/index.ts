/**
 * The presets by name: every coding-agent CLI the container can run as a rig's polecats (the
 * contract is types.ts). A new preset is a module beside this one and one entry here.
 */
import { AGENT_RUNTIMES } from "../../party/protocol.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { gemini } from "./gemini.ts";
import { opencode } from "./opencode.ts";
import type { Preset, PresetName } from "./types.ts";

const PRESETS: Partial<Record<PresetName, Preset>> = { claude, codex, gemini, opencode };

/** The names a preset may have (the protocol's runtimes but scripted and command), whether or not this container has it. */
export const PRESET_NAMES = AGENT_RUNTIMES.filter((r): r is PresetName => r !== "scripted" && r !== "command");

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** The preset of that name, or undefined when this container has none (yet). */
export function presetOf(name: PresetName): Preset | undefined {
  return PRESETS[name];
}

/** The presets this container has, by name. */
export function availablePresets(): PresetName[] {
  return PRESET_NAMES.filter((name) => PRESETS[name]);
}
