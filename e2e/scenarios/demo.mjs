// e2e scenario "demo".
export const order = 30;
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, dist, points, shots, stepOf, text, waitPhase } from '../lib.mjs';

/**
 * The built-in demo's panels: the fresh page trains the demo, the reward-vs-KL frontier and the "what is
 * DPO doing" curves draw real points, the samples are tinted by sentiment, and a beta sweep adds one
 * curve per beta. Runs on the real demo (public/demo/manifest.json) when this build has it, otherwise
 * on the e2e fixture model given the demo's probe settings (so the panels are always covered).
 */
export async function run({ browser, base, fx }) {
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
