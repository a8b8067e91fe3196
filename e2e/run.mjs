#!/usr/bin/env node
// End-to-end test of the playground in real Chromium with WebGPU (SwiftShader on CPU-only machines):
// builds the page, serves it with `vite preview` on a free localhost port, runs the scenarios, prints
// one line per check and exits non-zero when one fails. Screenshots go to test-results/e2e/.
//
//   node e2e/run.mjs            (E2E_SKIP_BUILD=1 to reuse dist/, E2E_HEADED=1 to watch, E2E_ONLY=name)
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { STEPS, writeFixtures } from './fixture.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const shots = join(root, 'test-results', 'e2e');
const uploads = join(tmpdir(), `dpo-e2e-${process.pid}`);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// The shared data: DPO_SHARED_DIR, ../shared beside the checkout, or /work/shared (as test/helpers/paths.ts).
const SHARED = [process.env.DPO_SHARED_DIR, resolve(root, '..', 'shared'), '/work/shared'].find((d) => d && existsSync(resolve(d, 'data')));
if (!SHARED) throw new Error('shared data not found (../shared or /work/shared); set DPO_SHARED_DIR');
const HH = resolve(SHARED, 'data', 'hh-rlhf-harmless-base-test.jsonl.gz');

const results = [];
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(0).padStart(4);
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${secs()}s ${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` - ${detail}` : ''}`);
  if (!ok) throw new Error(`check failed: ${name} ${detail}`);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const text = async (page, testId) => (await page.getByTestId(testId).textContent())?.trim() ?? '';
const stepOf = (s) => Number(/step (\d+)/.exec(s)?.[1] ?? NaN);
const points = (page, id) => page.getByTestId(`chart-${id}-alt`).getAttribute('data-points').then(Number);

async function waitPhase(page, phase, timeout) {
  await page.waitForFunction((p) => document.querySelector('[data-testid=run-phase]')?.textContent === p, phase, { timeout });
}

// ------------------------------------------------------------------ scenarios

async function trainPauseReloadResumeExport(browser, base, fx) {
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

async function badFilesAndHub(browser, base, fx) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/?demo=${fx.manifest}`);
  await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });

  await page.getByLabel('Dataset file').setInputFiles(fx.png);
  await page.getByTestId('dataset-error').waitFor({ timeout: 30_000 });
  const pngMsg = await text(page, 'dataset-error');
  check('a PNG named .jsonl shows a sentence', /\w+ .*\./.test(pngMsg) && !/undefined|\[object/.test(pngMsg), pngMsg);

  await page.getByLabel('Dataset file').setInputFiles(fx.broken);
  await page.getByTestId('dataset-report').waitFor({ timeout: 30_000 });
  const report = await text(page, 'dataset-report');
  check('a JSONL with a broken line keeps the good pairs and reports the bad one', report.includes('2 usable of 3 records') && report.includes('1 skipped'), report);

  await page.getByLabel('Dataset file').setInputFiles(HH);
  await page.getByTestId('pair-count').waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=pair-count]')?.textContent?.includes('2,312'), null, { timeout: 120_000 });
  check('HH-RLHF upload: preview and report show 2,312 pairs', (await text(page, 'pair-count')).includes('2,312 usable'), await text(page, 'pair-count'));
  check('the preview table shows the pairs with differences marked', (await page.locator('table.preview mark.chosen').count()) > 0);
  await page.screenshot({ path: join(shots, '04-hh-dataset.png'), fullPage: true });

  await page.getByRole('radio', { name: 'Files from disk' }).check();
  await page.getByLabel('Model files').setInputFiles(fx.badModelFiles);
  await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
  const stMsg = await text(page, 'model-error');
  check('a safetensors file with a bad header shows a sentence', /safetensors/i.test(stMsg), stMsg);

  await page.getByRole('radio', { name: 'Hugging Face Hub' }).check();
  await page.getByLabel('Repo id').fill(fx.hubRepo);
  await page.getByLabel('Hub address').fill(`${base}/${fx.hubPath}`);
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  await page.waitForFunction((r) => document.querySelector('[data-testid=model-info]')?.textContent?.includes(r), fx.hubRepo, { timeout: 60_000 });
  check('a model loads by repo id from a server that answers like the Hub', (await text(page, 'model-info')).includes('gpt2'), await text(page, 'param-count'));
  await page.getByLabel('Repo id').fill('tiny/does-not-exist');
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
  check('a missing repo shows a sentence', (await text(page, 'model-error')).includes("no config.json for 'tiny/does-not-exist'"), await text(page, 'model-error'));
  await page.screenshot({ path: join(shots, '05-errors.png'), fullPage: true });
  await ctx.close();
}

/**
 * The built-in demo's panels: the fresh page trains the demo, the reward-vs-KL frontier and the "what is
 * DPO doing" curves draw real points, the samples are tinted by sentiment, and a beta sweep adds one
 * curve per beta. Runs on the real demo (public/demo/manifest.json) when this build has it, otherwise
 * on the e2e fixture model given the demo's probe settings (so the panels are always covered).
 */
async function builtInDemo(browser, base, fx) {
  const real = existsSync(join(dist, 'demo', 'manifest.json'));
  let url = `${base}/`;
  if (!real) {
    console.log(`${secs()}s built-in demo: public/demo/manifest.json is not in this build; the fixture model stands in for it`);
    const m = JSON.parse(readFileSync(join(dist, fx.manifest), 'utf8'));
    m.args = { ...m.args, max_steps: 8, eval_steps: 4 };
    m.recommended = { frontier: { prompts: 4, every_steps: 4, max_new_tokens: 12, temperature: 1, seed: 7 } };
    writeFileSync(join(dist, 'e2e', 'manifest-demo.json'), JSON.stringify(m));
    url = `${base}/?demo=e2e/manifest-demo.json`;
  }
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByTestId('dataset-report').waitFor({ timeout: 120_000 });
  check('the fresh page selects the built-in demo', (await text(page, 'model-info')).length > 0, await text(page, 'param-count'));
  await page.getByTestId('frontier-panel').waitFor({ timeout: 10_000 });
  check('the demo shows the frontier and the loss/weight curves before training', (await page.getByTestId('curves-panel').count()) === 1, await text(page, 'curves-alt'));
  // the beta slider is reachable by keyboard and sets the next run's beta
  const slider = page.getByRole('slider');
  const beta0 = await text(page, 'curves-beta');
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((b) => document.querySelector('[data-testid=curves-beta]')?.textContent !== b, beta0, { timeout: 5_000 });
  const beta1 = await text(page, 'curves-beta');
  check('the beta slider moves by keyboard', Number(beta1) > Number(beta0), `${beta0} -> ${beta1}`);
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction((b) => document.querySelector('[data-testid=curves-beta]')?.textContent === b, beta0, { timeout: 5_000 });

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const fpoints = () => page.getByTestId('frontier-alt').getAttribute('data-points').then(Number);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=frontier-alt]')?.getAttribute('data-points')) >= 2, null, { timeout: 240_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=curves-alt]')?.getAttribute('data-points')) >= 1, null, { timeout: 120_000 });
  const falt = await text(page, 'frontier-alt');
  const kl = Number(/KL (-?[\d.e+-]+) nats/.exec(falt)?.[1]);
  check('the frontier draws real points (reference at KL 0, policy at KL > 0)', (await fpoints()) >= 2 && /^Reference r\* -?\d/.test(falt) && kl > 0, falt);
  const calt = await text(page, 'curves-alt');
  check('the explainer draws the eval pairs on the loss and weight curves', /\d+ eval pairs at step \d+: \d+ ordered right/.test(calt) && /mean gradient weight 0\.\d/.test(calt), calt);
  const dots = await page.locator('[data-testid=curves-chart] .recharts-scatter-symbol').count();
  check('the curves show one dot per pair on each chart', dots >= 2, `${dots} dots`);
  const samples = page.getByTestId('demo-samples');
  await samples.waitFor({ timeout: 10_000 });
  check('reference and policy samples with r*, words tinted by sentiment', (await samples.locator('.reward-badge').count()) >= 2 && (await text(page, 'demo-samples')).includes('Reference'), (await text(page, 'demo-samples')).slice(0, 140));
  await page.screenshot({ path: join(shots, '07-builtin-demo.png'), fullPage: true });
  // stop the run (a short fixture run may already have finished)
  await page.getByRole('button', { name: 'Stop' }).click({ timeout: 3_000 }).catch(() => undefined);
  await page.waitForFunction(() => ['stopped', 'finished'].includes(document.querySelector('[data-testid=run-phase]')?.textContent ?? ''), null, { timeout: 120_000 });

  // beta sweep: short runs one after another, each adds a curve
  await page.getByLabel('Betas to sweep').fill('0.1, 1');
  await page.getByLabel('Steps per run').fill(real ? '6' : '4');
  await page.getByRole('button', { name: 'Beta sweep' }).click();
  await page.getByTestId('sweep-status').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => !document.querySelector('[data-testid=sweep-status]'), null, { timeout: 300_000 });
  const runs = Number(await page.getByTestId('frontier-alt').getAttribute('data-runs'));
  const sweepAlt = await text(page, 'frontier-alt');
  check('the beta sweep draws one curve per beta next to the first run', runs === 3 && sweepAlt.includes('beta 0.1 ') && sweepAlt.includes('beta 1 '), sweepAlt);
  check('the sweep restores the demo settings', (await text(page, 'curves-beta')) === beta0, await text(page, 'curves-beta'));
  await page.getByTestId('frontier-chart').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, '08-beta-sweep.png'), fullPage: true });
  await page.getByTestId('frontier-panel').screenshot({ path: join(shots, '09-frontier-panel.png') });
  await page.getByTestId('curves-panel').screenshot({ path: join(shots, '10-curves-panel.png') });
  check('no uncaught page errors in the demo', errors.length === 0, errors.join(' | '));
  await ctx.close();
}

async function noWebGpu(base) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'This page needs WebGPU' }).waitFor({ timeout: 30_000 });
    const body = (await page.textContent('body')) ?? '';
    check('without WebGPU the page explains which browsers work', body.includes('Chrome or Edge 113') && body.includes('Safari'), body.slice(0, 80));
    await page.screenshot({ path: join(shots, '06-no-webgpu.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}

// ------------------------------------------------------------------ main

async function main() {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  if (!process.env.E2E_SKIP_BUILD) {
    console.log(`${secs()}s building the page`);
    await build({ root, logLevel: 'warn' });
  }
  const fx = writeFixtures(dist, uploads, join(root, 'public', 'demo'));
  const port = await freePort();
  const server = await preview({ root, logLevel: 'warn', preview: { port, strictPort: true, host: '127.0.0.1', open: false } });
  const base = `http://127.0.0.1:${port}`;
  console.log(`${secs()}s serving ${base}`);
  const only = process.env.E2E_ONLY;
  let failed = false;
  const run = async (name, fn) => {
    if (only && !name.includes(only)) return;
    try {
      await fn();
    } catch (e) {
      failed = true;
      if (!String(e.message).startsWith('check failed')) check(`${name} (${e.message.split('\n')[0]})`, false);
    }
  };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu', ...BASE_ARGS], headless: !process.env.E2E_HEADED });
  try {
    await run('train', () => trainPauseReloadResumeExport(browser, base, fx));
    await run('files', () => badFilesAndHub(browser, base, fx));
    await run('demo', () => builtInDemo(browser, base, fx));
  } finally {
    await browser.close();
  }
  await run('nowebgpu', () => noWebGpu(base));
  await new Promise((r) => server.httpServer.close(r));
  rmSync(uploads, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  console.log(`${secs()}s ${passed}/${results.length} checks passed${failed ? ' - FAILED' : ''}; screenshots in ${shots}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
