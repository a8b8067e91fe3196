/** English left in a text: runs of 3+ consecutive plain Latin words that are not names (korean.mjs). */
export function englishRuns(s: string, names?: Set<string>): string[];
export function run(ctx: { browser: unknown; base: string; fx: Record<string, string> }): Promise<void>;
export const order: number;
