/** Real git repositories for tests: a bare "remote" with one commit on main, and an https remote. */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * As root, the container gives rigs' clones and local remotes to the rigs' own users, and git refuses
 * to work in a repository another user owns unless told it is safe, as it is for these tests' reads.
 */
const IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@townhall.local", "-c", "safe.directory=*"];

export function git(args: string[], cwd?: string): string {
  return execFileSync("git", [...IDENTITY, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Creates `<dir>/<name>.git` (bare, default branch main) holding a README commit. */
export function makeBareRepo(dir: string, name: string): string {
  const seed = mkdtempSync(join(tmpdir(), `seed-${name}-`));
  git(["init", "-q", "-b", "main", seed]);
  execFileSync("sh", ["-c", `echo "# ${name}" > README.md`], { cwd: seed });
  git(["add", "README.md"], seed);
  git(["commit", "-q", "-m", "Initial commit"], seed);
  const bare = join(dir, `${name}.git`);
  git(["clone", "-q", "--bare", seed, bare]);
  rmSync(seed, { recursive: true, force: true });
  return bare;
}

/** A file's content on main of a bare repo, or null. */
export function showFile(bare: string, path: string): string | null {
  try {
    return git(["--git-dir", bare, "show", `main:${path}`]);
  } catch {
    return null;
  }
}

export function filesOnMain(bare: string): string[] {
  return git(["--git-dir", bare, "ls-tree", "-r", "--name-only", "main"]).split("\n").filter(Boolean).sort();
}

/** Merge commits on main: [sha, subject, parent count]. */
export function mergesOnMain(bare: string): { sha: string; subject: string }[] {
  const out = git(["--git-dir", bare, "log", "--merges", "--format=%H%x09%s", "main"]);
  return out ? out.split("\n").map((line) => ({ sha: line.split("\t")[0]!, subject: line.split("\t")[1]! })) : [];
}

/**
 * A real https git remote on 127.0.0.1: `git http-backend` (CGI) serving the bare repositories
 * under `root`, for a client that sends `Authorization: Basic <user:password>` (anything else gets
 * 401), pushes allowed. Its certificate is self-signed (`cert`: what a client must trust). While
 * git waits for each answer its processes (git, git-remote-https) are alive: the server reads every
 * process's command line then, and keeps those holding `watch` (a credential that must not leak).
 */
export async function httpsGitServer(root: string, auth: { user: string; password: string }, watch: string) {
  const dir = mkdtempSync(join(tmpdir(), "townhall-tls-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
  const seen = { requests: 0, refused: 0, leaks: [] as string[] };
  const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    seen.requests++;
    seen.leaks.push(...commandLinesHolding(watch));
    if (req.headers.authorization !== expected) {
      seen.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' }).end();
      return;
    }
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const header = (name: string) => (req.headers[name] === undefined ? {} : { [`HTTP_${name.toUpperCase().replace(/-/g, "_")}`]: String(req.headers[name]) });
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REMOTE_USER: auth.user, // authenticated: http-backend allows pushes
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...header("content-encoding"),
        ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    req.pipe(cgi.stdin);
    // CGI: headers (Status among them), a blank line, the body.
    let head: Buffer | null = Buffer.alloc(0);
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (!head) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const colon = line.indexOf(":");
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === "status") status = parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
      head = null;
    });
    cgi.stdout.on("end", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    cert,
    seen,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every process's command line (arguments space-separated) that holds `text`. */
export function commandLinesHolding(text: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(text)) found.push(`${name}: ${cmdline}`);
    } catch {
      // gone
    }
  }
  return found;
}
