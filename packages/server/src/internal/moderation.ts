/**
 * A first line of moderation: prompts naming plainly disallowed content are refused
 * before any compute is spent. Words are matched whole, after lower-casing.
 */
const BLOCKED = new Set([
  'nude', 'nudity', 'naked', 'porn', 'porno', 'pornographic', 'sex', 'sexual', 'nsfw', 'gore', 'gory',
  'beheading', 'decapitation', 'suicide', 'selfharm', 'rape', 'terrorist', 'csam', 'swastika',
]);

export function moderatePrompt(prompt: string): string | null {
  for (const w of prompt.toLowerCase().split(/[^a-z0-9]+/)) if (BLOCKED.has(w)) return w;
  return null;
}
