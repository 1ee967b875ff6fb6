/** A rig's runtime and model as the dashboard shows and checks them (web/src/lib/runtime.ts). */
import { describe, expect, it } from "vitest";
import { modelProblem, runtimeLine } from "../../web/src/lib/runtime.ts";

describe("runtimeLine", () => {
  it("says how a rig's agents run: the registry's runtime and model, or the defaults that apply", () => {
    expect(runtimeLine({ runtime: "claude", model: "claude-sonnet-4-5" })).toBe("Claude Code · model claude-sonnet-4-5");
    expect(runtimeLine({ runtime: "codex" })).toBe("Codex · its default model");
    expect(runtimeLine({})).toBe("the container's default runtime");
    expect(runtimeLine({ model: "gpt-5-codex" })).toBe("the container's default runtime · model gpt-5-codex");
    // The scripted agent and a command take no model: nothing said of one.
    expect(runtimeLine({ runtime: "scripted" })).toBe("the scripted agent");
    expect(runtimeLine({ runtime: "command" })).toBe("a command");
  });
});

describe("modelProblem", () => {
  it("takes an empty model (the default) and a model name, and says what is wrong with anything else", () => {
    expect(modelProblem("claude", "")).toBeNull();
    expect(modelProblem("scripted", "")).toBeNull();
    expect(modelProblem("claude", "claude-sonnet-4-5")).toBeNull();
    expect(modelProblem("", "openai/gpt-4.1")).toBeNull(); // the container's default runtime may take one
    expect(modelProblem("opencode", "anthropic/claude-sonnet-4-5")).toBeNull();
    expect(modelProblem("codex", "gpt 5")).toMatch(/^A model name has letters, digits/);
    expect(modelProblem("codex", "-m")).toMatch(/^A model name/);
    expect(modelProblem("claude", "x".repeat(101))).toMatch(/^A model name/);
    expect(modelProblem("scripted", "claude-sonnet-4-5")).toBe("The scripted agent takes no model: leave it empty.");
    expect(modelProblem("command", "gpt-5")).toBe("A command takes no model: leave it empty.");
  });
});
