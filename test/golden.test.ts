// The golden check on every fixture folder: the engine must reproduce float64 PyTorch within the
// fixtures' tolerances (log-probs, five losses, metrics, KL, every gradient, grad norm, 3 AdamW steps).
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGolden } from '../src/dpo/golden';
import { nodeFolderSource } from '../src/model/weights';
import { testGpu } from './helpers/gpu';
import { sharedDir } from './helpers/paths';

const roots = [join(sharedDir(), 'fixtures'), join(process.cwd(), 'test/fixtures/golden')].filter(existsSync);
const dirs = roots.flatMap((r) =>
  readdirSync(r, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(r, d.name, 'expected.json')))
    .map((d) => join(r, d.name)),
);

describe('golden fixtures', () => {
  it('finds the shared fixtures', () => {
    expect(dirs.some((d) => d.endsWith('gpt2-tiny'))).toBe(true);
    expect(dirs.some((d) => d.endsWith('llama-tiny'))).toBe(true);
  });
  for (const dir of dirs) {
    it(`matches ${dir.split('/').slice(-2).join('/')}`, async () => {
      const gpu = await testGpu();
      const r = await runGolden(gpu, nodeFolderSource(dir));
      const failed = r.lines.filter((l) => !l.pass).map((l) => `${l.name}: err ${l.err} > tol ${l.tol}`);
      expect(failed).toEqual([]);
      // every kind of quantity was actually checked
      const names = r.lines.map((l) => l.name);
      for (const prefix of ['policy_chosen_logps', 'policy_token_logps', 'losses/ipo_length_normalized', 'metrics/kl/token_mean_exact', 'grad.', 'sigmoid_grad_global_norm', 'adamw3.']) {
        expect(names.some((n) => n.startsWith(prefix))).toBe(true);
      }
    });
  }
});
