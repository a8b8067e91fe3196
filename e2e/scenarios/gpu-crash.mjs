// e2e scenario "gpu-crash": a REAL crash of Chromium's GPU process in the middle of a run on the demo
// fixture (kill -9 of this browser's `--type=gpu-process` child, as a driver reset or an OS kill would).
// Checks: the page shows a sentence, not the raw "Failed to execute 'mapAsync'..." exception; it offers
// "Continue from step N" where N is the step saved at the last pause; the charts hold steps 1..N; clicking
// it goes on without a reload on a new GPU device; the next step is N + 1 and the run finishes with a
// finite loss equal to an uninterrupted run's (a new run on the same page); metrics.csv has every step
// once, in order. Prints what the page said, N and both final losses.
export const ownBrowser = true;
export const order = 60;
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { STEPS } from '../fixture.mjs';
import { BASE_ARGS, CHROMIUM, check, points, shots, stepOf, text, uploads, waitPhase } from '../lib.mjs';

/** Processes under `root` (this Node process), from /proc: pid -> { ppid, cmd }. */
function descendants(root) {
  const all = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      all.set(Number(d), { ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [pid, x] of all) if (x.ppid === p) out.push({ pid, ...x }), walk(pid);
  };
  walk(root);
  return out;
}

const gpuProcesses = () => descendants(process.pid).filter((p) => p.cmd.includes('--type=gpu-process'));

export async function run({ base, fx }) {
  // GPU processes of browsers this runner launched before (the shared one) are not ours to kill
  const foreign = new Set(gpuProcesses().map((p) => p.pid));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu', ...BASE_ARGS], headless: !process.env.E2E_HEADED });
  try {
    const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/?demo=${fx.manifest}`);
    await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });

    // train a few steps and pause: the worker keeps the state of the paused step
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss-alt]')?.getAttribute('data-points')) >= 4, null, { timeout: 180_000 });
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitPhase(page, 'paused', 60_000);
    const pausedStep = stepOf(await text(page, 'run-step'));
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.waitForFunction((s) => Number(/step (\d+)/.exec(document.querySelector('[data-testid=run-step]')?.textContent ?? '')?.[1]) >= s + 2, pausedStep, { timeout: 120_000 });

    // the crash: kill -9 the browser's GPU process while the run trains
    const gpus = gpuProcesses().filter((p) => !foreign.has(p.pid));
    check('the browser has a GPU process to crash', gpus.length === 1, gpus.map((p) => p.pid).join(','));
    const crashedAt = stepOf(await text(page, 'run-step'));
    for (const p of gpus) process.kill(p.pid, 'SIGKILL');
    const notice = page.getByTestId('fault-notice');
    await notice.waitFor({ timeout: 120_000 });
    const said = await text(page, 'fault-message');
    const body = (await page.textContent('body')) ?? '';
    await page.screenshot({ path: join(shots, 'gpu-crash-1-fault.png'), fullPage: true });
    console.log(`      the page said: ${said}`);
    check('the crash is a sentence, not the raw mapAsync exception', /^The GPU device was lost during step \d+/.test(said) && !/mapAsync|Instance reference/.test(body), said.slice(0, 160));
    const button = notice.getByRole('button', { name: /^Continue from step \d+$/ });
    const N = Number(/(\d+)$/.exec((await button.textContent()) ?? '')?.[1]);
    check('it offers "Continue from step N" at the paused step', N === pausedStep && said.includes(`saved at step ${N}`), `N ${N}, paused at ${pausedStep}, crashed during step ${crashedAt + 1}`);
    check('the charts go back to the saved step', (await points(page, 'loss')) === N, `${await points(page, 'loss')} loss points`);
    check('Export stays enabled after the crash', await page.getByRole('button', { name: 'Export model + script' }).isEnabled());
    const gpusBefore = new Set(gpus.map((p) => p.pid));

    // continue without a reload: a new GPU process and device, from step N
    await button.click();
    await page.waitForFunction((s) => Number(/step (\d+)/.exec(document.querySelector('[data-testid=run-step]')?.textContent ?? '')?.[1]) > s, N, { timeout: 120_000 });
    const next = await page.evaluate(() => document.querySelector('[data-testid=chart-loss-alt]')?.getAttribute('data-points'));
    check('the next step after continuing is N + 1', Number(next) === N + 1 || Number(next) > N, `loss points ${next} after continuing from ${N}`);
    const newGpus = gpuProcesses().filter((p) => !gpusBefore.has(p.pid) && !foreign.has(p.pid));
    check('the run goes on on a new GPU process', newGpus.length === 1, newGpus.map((p) => p.pid).join(','));
    await waitPhase(page, 'finished', 300_000);
    await page.screenshot({ path: join(shots, 'gpu-crash-2-finished.png'), fullPage: true });
    check('the continued run finishes', stepOf(await text(page, 'run-step')) === STEPS);

    const metrics = async (name) => {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Metrics CSV' }).click()]);
      const path = join(uploads, name);
      await dl.saveAs(path);
      const rows = readFileSync(path, 'utf8').trim().split('\n');
      const head = rows[0].split(',');
      return { steps: rows.slice(1).map((l) => Number(l.split(',')[0])), loss: Number(rows.at(-1).split(',')[head.indexOf('loss')]) };
    };
    const { steps, loss } = await metrics('gpu-crash-metrics.csv');
    check('every step once in order: the first step after continuing is N + 1', steps.length === STEPS && steps.every((s, i) => s === i + 1), `steps ${steps.slice(Math.max(0, N - 2), N + 2).join(',')} around N = ${N}`);
    check('the final loss is finite', Number.isFinite(loss), `loss ${loss} at step ${steps.at(-1)}`);

    // the same run uninterrupted, on the same page: the continued run ends where it does
    await page.getByRole('button', { name: 'Train a new run' }).click();
    await waitPhase(page, 'finished', 300_000);
    const plain = await metrics('uninterrupted-metrics.csv');
    check('the continued run ends with the uninterrupted run\'s loss', Math.abs(plain.loss - loss) <= 1e-6, `continued ${loss}, uninterrupted ${plain.loss}`);
    check('no uncaught page errors', errors.length === 0, errors.join(' | ').slice(0, 200));
    const summary = { said, N, pausedStep, crashedDuringStep: crashedAt + 1, finalLoss: loss, uninterruptedFinalLoss: plain.loss, steps: STEPS };
    console.log(`      gpu-crash: ${JSON.stringify(summary)}`);
    writeFileSync(join(shots, 'gpu-crash.json'), JSON.stringify(summary, null, 2));
  } finally {
    await browser.close();
  }
}
