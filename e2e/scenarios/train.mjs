// e2e scenario "train": Train the fixture model, pause, reload, resume, export, and load the export back.
export const order = 10;
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { STEPS } from '../fixture.mjs';
import { check, points, shots, stepOf, text, uploads, waitPhase } from '../lib.mjs';

export async function run({ browser, base, fx }) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/?demo=${fx.manifest}`);
  await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });
  check('fresh page loads the demo model and pairs', (await text(page, 'model-info')).includes('gpt2'), await text(page, 'split'));
  await page.screenshot({ path: join(shots, '01-ready.png'), fullPage: true });

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss-alt]')?.getAttribute('data-points')) >= 10, null, { timeout: 180_000 });
  await page.getByRole('button', { name: 'Pause' }).click(); // at once: on a fast machine the run would finish first
  const alts = {};
  for (const id of ['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim']) alts[id] = await text(page, `chart-${id}-alt`);
  const nums = Object.values(alts).join(' ').match(/-?\d+\.\d+(e[-+]\d+)?/g) ?? [];
  check('charts show >= 10 points of real metrics', (await points(page, 'loss')) >= 10 && nums.length >= 8 && nums.every((n) => Number.isFinite(Number(n))), alts.loss);
  check('every chart has a text alternative with values', Object.values(alts).every((a) => !a.includes('no value yet')), alts.kl);
  const kl = Number(/kl\/token_mean_exact (-?[\d.e+-]+)/.exec(alts.kl)?.[1]);
  check('KL from the reference is measured and >= 0', kl >= 0, `kl ${kl}`);

  await waitPhase(page, 'paused', 60_000);
  const pausedStep = stepOf(await text(page, 'run-step'));
  check('pause stops the run', pausedStep >= 10, `paused at step ${pausedStep}`);
  await page.waitForSelector(`tr[data-status=paused][data-step="${pausedStep}"]`, { timeout: 30_000 });
  await page.screenshot({ path: join(shots, '02-paused.png'), fullPage: true });

  await page.reload();
  const row = page.locator('tr[data-status=paused]').first();
  await row.waitFor({ timeout: 30_000 });
  check('after a reload the paused run is listed', Number(await row.getAttribute('data-step')) === pausedStep, `step ${pausedStep}`);
  await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });
  await row.getByRole('button', { name: /Continue/ }).click();
  await page.waitForFunction((s) => {
    const m = /step (\d+)/.exec(document.querySelector('[data-testid=run-step]')?.textContent ?? '');
    return m && Number(m[1]) > s;
  }, pausedStep, { timeout: 120_000 });
  // the page stays responsive while the worker trains: count animation frames for 2 s
  const fps = await page.evaluate(
    () =>
      new Promise((res) => {
        let n = 0;
        const t = performance.now();
        const tick = () => (performance.now() - t < 2000 ? (n++, requestAnimationFrame(tick)) : res(n / 2));
        requestAnimationFrame(tick);
      }),
  );
  check('the page stays responsive while training', fps >= 20, `${fps} frames/s`);

  const resumedPoints = await points(page, 'loss');
  check('the run resumes from its step with its history', resumedPoints > pausedStep, `${resumedPoints} points after resuming from ${pausedStep}`);
  await waitPhase(page, 'finished', 180_000);
  check('the run finishes', stepOf(await text(page, 'run-step')) === STEPS);
  await page.getByTestId('pair-scatter').waitFor({ timeout: 30_000 });
  check('the per-pair view shows the eval pairs', Number(await page.getByTestId('pair-scatter-alt').getAttribute('data-points')) === 12, await text(page, 'pair-scatter-alt'));
  await page.locator('.pair-list button').first().click();
  check('a pair shows its texts and four log-probs', (await text(page, 'pair-detail')).includes('log pi_ref'));

  await page.getByRole('button', { name: /Sample \d+ held-out prompts/ }).click();
  await page.getByTestId('samples').waitFor({ timeout: 120_000 });
  const sampleText = await text(page, 'samples');
  check('reference and policy samples side by side', sampleText.includes('Reference') && sampleText.includes('Policy'), sampleText.slice(0, 120));
  await page.screenshot({ path: join(shots, '03-finished.png'), fullPage: true });

  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Export model + script' }).click()]);
  const zipPath = join(uploads, 'export.zip');
  await dl.saveAs(zipPath);
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  const names = Object.keys(files);
  const want = ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'train_trl.py', 'train.jsonl', 'metrics.csv', 'metrics.jsonl'];
  check('export downloads the HF folder, TRL script and metrics', want.every((w) => names.includes(w)), names.join(', '));
  const csv = new TextDecoder().decode(files['metrics.csv']).trim().split('\n');
  check('metrics.csv has one row per step', csv.length === STEPS + 1 && csv[0].startsWith('step,epoch,'), `${csv.length - 1} rows`);
  const script = new TextDecoder().decode(files['train_trl.py']);
  check('the TRL script has the run hyperparameters', script.includes('beta=0.1') && script.includes(`max_steps=${STEPS}`) && script.includes('learning_rate=0.002'));

  // the exported folder loads back as a model
  const exportedDir = join(uploads, 'exported');
  mkdirSync(exportedDir, { recursive: true });
  const modelFiles = names.filter((n) => n.startsWith('model/')).map((n) => {
    const p = join(exportedDir, n.slice(6));
    writeFileSync(p, files[n]);
    return p;
  });
  await page.getByRole('radio', { name: 'Files from disk' }).check();
  await page.getByLabel('Model files').setInputFiles(modelFiles);
  await page.waitForFunction(() => document.querySelector('[data-testid=model-info]')?.textContent?.includes('files from disk'), null, { timeout: 60_000 });
  check('the exported folder loads back as a model', (await text(page, 'param-count')).length > 0, await text(page, 'param-count'));
  check('no uncaught page errors', errors.length === 0, errors.join(' | '));
  await ctx.close();
}
