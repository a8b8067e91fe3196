// Writes the demo world (corpus, tokenizer, prompt sets) to public/demo/ from a seed, plus
// world.json with each file's sha256 so a test can check the committed files match this script.
// Run: npx tsx --import ./scripts/register-raw.mjs scripts/demo/build-world.ts [--seed N] [--texts N]

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorld, DEFAULT_WORLD, type WorldOptions } from '../../src/demo/world';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer, got "${process.argv[i + 1]}".`);
  return v;
}

const opts: WorldOptions = {
  ...DEFAULT_WORLD,
  seed: arg('seed') ?? DEFAULT_WORLD.seed,
  texts: arg('texts') ?? DEFAULT_WORLD.texts,
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'public/demo');
mkdirSync(outDir, { recursive: true });
const t0 = performance.now();
const files = buildWorld(opts);
const sha256: Record<string, string> = {};
for (const [name, text] of Object.entries(files)) {
  writeFileSync(join(outDir, name), text);
  sha256[name] = createHash('sha256').update(text).digest('hex');
}
const vocabSize = Object.keys((JSON.parse(files['tokenizer.json']!) as { model: { vocab: object } }).model.vocab).length;
writeFileSync(join(outDir, 'world.json'), `${JSON.stringify({ ...opts, vocabSize, sha256 }, null, 1)}\n`);
console.log(`demo world (seed ${opts.seed}): ${opts.texts} texts, vocab ${vocabSize}, ` +
  `${(files['corpus.txt']!.length / 1e6).toFixed(2)} MB corpus, ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${outDir}`);
