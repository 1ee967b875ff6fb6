import { defineConfig } from "vitest/config";
import solid from "vite-plugin-solid";
import tailwindcss from "@tailwindcss/vite";

export default defineConfig({
  root: "web",
  plugins: [solid(), tailwindcss()],
  build: { outDir: "../dist", emptyOutDir: true },
  test: {
    root: ".",
    environment: "node",
    projects: [
      {
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], environment: "node" },
      },
      {
        // Container parts against real git repositories, no server.
        test: {
          name: "container",
          include: ["tests/container/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/build-gt-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/build-gt-setup.ts", "tests/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The soak's smoke variant: alone, after every other project (groupOrder), on its own server.
        test: {
          name: "soak",
          include: ["tests/soak/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/build-gt-setup.ts"],
          testTimeout: 15 * 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The built dashboard in Chromium against real partykit dev (tests/e2e/global-setup.ts).
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One browser and one server on a two-core machine: files in turn keep timings honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
