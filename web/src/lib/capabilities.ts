/** What a rig lacks of what a bead requires (placement's own rule: every required capability). */
export function missingCapabilities(requires: readonly string[], capabilities: readonly string[]): string[] {
  const has = new Set(capabilities);
  return [...new Set(requires)].filter((c) => !has.has(c));
}
