// Shared by the e2e runner and its scenarios: paths, the check() that records a result, and small page helpers.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// One build folder per E2E_ONLY selection, so runs of different scenarios side by side do not overwrite
// each other's page (the full run uses dist/, as `npm start` does).
const selection = (process.env.E2E_ONLY ?? '').replace(/[^\w,-]/g, '').replace(/,/g, '+');
export const dist = join(root, selection ? `dist-e2e-${selection}` : 'dist');
export const shots = join(root, 'test-results', selection ? `e2e-${selection}` : 'e2e');
export const uploads = join(tmpdir(), `dpo-e2e-${process.pid}`);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BASE_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// The shared data: DPO_SHARED_DIR, ../shared beside the checkout, or /work/shared (as test/helpers/paths.ts).
export const SHARED = [process.env.DPO_SHARED_DIR, resolve(root, '..', 'shared'), '/work/shared'].find((d) => d && existsSync(resolve(d, 'data')));
if (!SHARED) throw new Error('shared data not found (../shared or /work/shared); set DPO_SHARED_DIR');
export const HH = resolve(SHARED, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz');

export const results = [];
const t0 = Date.now();
export const secs = () => ((Date.now() - t0) / 1000).toFixed(0).padStart(4);
/** Records a check; a failed one throws, which ends its scenario (the runner goes on with the next). */
export function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${secs()}s ${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` - ${detail}` : ''}`);
  if (!ok) throw new Error(`check failed: ${name} ${detail}`);
}

export const text = async (page, testId) => (await page.getByTestId(testId).textContent())?.trim() ?? '';
export const stepOf = (s) => Number(/step (\d+)/.exec(s)?.[1] ?? NaN);
export const points = (page, id) => page.getByTestId(`chart-${id}-alt`).getAttribute('data-points').then(Number);

export async function waitPhase(page, phase, timeout) {
  await page.waitForFunction((p) => document.querySelector('[data-testid=run-phase]')?.textContent === p, phase, { timeout });
}
