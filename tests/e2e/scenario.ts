/** A lived-in demo town for screenshots: four rigs, working and stalled agents, a convoy, mail. */
import type { Bead, ConvoyProgress, Rig, StartAgentCommand } from "../../party/protocol.ts";
import type { E2ETown } from "./fixtures.ts";

export async function demoTown(t: E2ETown) {
  const heartbeats: ReturnType<typeof setInterval>[] = [];
  const rigs: Record<string, Rig> = {};
  const started: StartAgentCommand[] = [];
  const specs = [
    { name: "frontend", capabilities: ["ts", "web"], max_polecats: 3 },
    { name: "backend", capabilities: ["api", "go"], max_polecats: 2 },
    { name: "docs", capabilities: ["docs"], max_polecats: 1 },
    { name: "infra", capabilities: ["ops"], max_polecats: 1 },
  ];
  for (const spec of specs) {
    const rig = await t.addRig(spec.name, {
      capabilities: spec.capabilities,
      max_polecats: spec.max_polecats,
      git_url: `git@github.com:acme/${spec.name}.git`,
    });
    rigs[spec.name] = rig;
    // Stand in for the container; heartbeat every started agent except in backend, which stalls.
    const { socket: container, epoch } = await t.holdLease(rig);
    container.onCommand((command) => {
      if (command.command !== "start_agent" || spec.name === "backend") return;
      if (spec.name === "frontend") started.push(command);
      heartbeats.push(setInterval(() => void t.rigCall(rig, "gt_heartbeat", {}, command.token).catch(() => {}), 500));
    });
    await t.rigCall(rig, "gt_rig_ready", { disk_bytes: Math.round((40 + spec.name.length * 37) * 1024 * 1024), epoch }, t.container);
  }
  const titles: Record<string, string[]> = {
    frontend: [
      "Dark mode for settings",
      "Fix flaky login test",
      "Virtualise the issue list",
      "Keyboard shortcuts help",
      "Upgrade Vite",
      "Empty states copy",
      "Phone layout for tables",
    ],
    backend: ["Rate-limit the search API", "Paginate /v2/issues", "Retry webhooks with backoff", "Index on created_at"],
    docs: ["Document the convoy API", "Quick start for rigs"],
    infra: ["Rotate the staging keys"],
  };
  const beads: Record<string, Bead[]> = {};
  for (const [rig, list] of Object.entries(titles)) {
    beads[rig] = [];
    for (const [i, title] of list.entries()) {
      beads[rig].push(await t.rigCall<Bead>(rigs[rig]!, "gt_bead_create", { title, priority: (["high", "medium", "critical", "low"] as const)[i % 4] }));
    }
  }
  const set = (rig: string, i: number, status: string) => t.rigCall(rigs[rig]!, "gt_bead_update", { bead_id: beads[rig]![i]!.id, status });
  // One polecat hands its work in: in review until the (absent) refinery merges it.
  const done = started[0]!;
  await t.rigCall(rigs.frontend!, "gt_done", { branch: done.branch, summary: "Dark mode done" }, done.token);
  await set("frontend", 4, "closed");
  await set("frontend", 5, "closed");
  await set("frontend", 6, "failed");
  await set("docs", 1, "closed");
  await set("infra", 0, "closed");
  const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
    title: "Launch v2",
    beads: [
      { title: "v2 landing page", rig: "frontend" },
      { title: "v2 API freeze", rig: "backend" },
      { title: "v2 migration guide", rig: "docs" },
      { title: "v2 changelog", rig: "docs" },
    ],
  });
  const landing = convoy.beads.find((b) => b.title === "v2 changelog")!;
  await t.rigCall(rigs.docs!, "gt_bead_update", { bead_id: landing.beadId, status: "closed" });
  await t.townCall("gt_convoy_create", {
    title: "Security patch week",
    beads: [
      { title: "Bump openssl", rig: "infra" },
      { title: "Audit tokens", rig: "backend" },
    ],
  });
  const toast = await t.polecat(rigs.frontend!, "toast");
  await t.rigCall(
    rigs.frontend!,
    "gt_mail_send",
    { to: "backend/witness", subject: "Is /v2/issues paginated yet?", body: "The list view needs cursors." },
    toast.token,
  );
  await t.rigCall(
    rigs.backend!,
    "gt_escalate",
    { title: "Migration needs a DBA", severity: "high", body: "Index build locks the table" },
    (await t.polecat(rigs.backend!, "maple")).token,
  );
  await t.townCall("gt_mail_send", { to: "mayor", subject: "Prioritise the v2 convoy", body: "Launch is Friday." });
  return { rigs, beads, convoy, stop: () => heartbeats.forEach(clearInterval) };
}
