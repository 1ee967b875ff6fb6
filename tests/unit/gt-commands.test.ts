/** gt's command tree (container/gt/program.ts): every command and group answers --help and -h. */
import { describe, expect, it } from "vitest";
import { commandPaths, run } from "../../container/gt/program.ts";

describe("gt's command tree", () => {
  const paths = commandPaths();

  it("holds the Gas Town forms beside Townhall's", () => {
    for (const path of [
      "mail",
      "mail send",
      "mail inbox",
      "mail read",
      "mail reply",
      "mail check",
      "hook",
      "escalate",
      "sling",
      "convoy create",
      "bead move",
      "rig list",
    ]) {
      expect(paths).toContain(path);
    }
  });

  it.each(
    commandPaths().flatMap((path) => [
      [path, "--help"],
      [path, "-h"],
    ]),
  )("gt %s %s prints its usage and exits 0", async (path, flag) => {
    const outcome = await run([...path.split(" "), flag]);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr ?? "").toBe("");
    expect(outcome.stdout).toMatch(new RegExp(`^Usage: gt ${path} `));
  });

  it.each(paths.filter((p) => paths.some((q) => q.startsWith(`${p} `))))("gt %s without its subcommand is a usage error (exit 2)", async (group) => {
    const outcome = await run(group.split(" "));
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(`Usage: gt ${group}`);
  });

  it("gt help <command> is the command's help", async () => {
    const outcome = await run(["help", "mail", "send"]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^Usage: gt mail send /);
    expect(outcome.stdout).toContain("-s, --subject <text>");
  });
});
