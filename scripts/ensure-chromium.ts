/**
 * `npm test` runs the dashboard's end-to-end tests in Debian's Chromium. On a fresh
 * machine it is not installed yet: install it with apt when we can (root), or say how.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.log("Chromium is missing: installing Debian's chromium for the end-to-end tests (about 30 s)…");
    execFileSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq chromium >/dev/null"], { stdio: "inherit" });
  } else {
    console.error(`The end-to-end tests need ${CHROMIUM}: install Debian's chromium (sudo apt-get install chromium).`);
  }
}
