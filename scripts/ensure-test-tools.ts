/**
 * `npm test` needs, from Debian, Chromium (the dashboard's end-to-end tests) and, when run as root,
 * nftables (the tests of the agents' network rule: container/sandbox.ts; without it the container
 * says the rule is not enforced and those tests fail). On a fresh machine they are not installed
 * yet: install them with apt when we can (root), or say how. The integration tests of real agents run
 * the real Claude Code CLI, pinned, from a cache outside node_modules (tests/helpers/claude-cli.ts):
 * installed from the npm registry when missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensureClaudeCode } from "../tests/helpers/claude-cli.ts";

const root = process.getuid?.() === 0;
const wanted = [
  { pkg: "chromium", present: existsSync("/usr/bin/chromium"), why: "the end-to-end tests" },
  ...(root ? [{ pkg: "nftables", present: ["/usr/sbin/nft", "/sbin/nft"].some((p) => existsSync(p)), why: "the agents' network rule" }] : []),
];
const missing = wanted.filter((w) => !w.present);
if (missing.length) {
  const list = missing.map((m) => m.pkg).join(" ");
  if (root && existsSync("/usr/bin/apt-get")) {
    console.log(`installing Debian's ${list} for ${missing.map((m) => m.why).join(" and ")} (about 30 s)…`);
    execFileSync("sh", ["-c", `apt-get update -qq && apt-get install -y -qq ${list} >/dev/null`], { stdio: "inherit" });
  } else {
    console.error(`npm test needs Debian's ${list} (sudo apt-get install ${list}) for ${missing.map((m) => m.why).join(" and ")}.`);
  }
}

const claude = ensureClaudeCode(undefined, (line) => console.log(line));
if (claude.installedMs !== null) console.log(`installed ${claude.binary} in ${(claude.installedMs / 1000).toFixed(1)} s`);
