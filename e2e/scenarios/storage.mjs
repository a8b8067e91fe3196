// e2e scenario "storage": nothing is lost when the browser's storage is full. The origin gets a real,
// tiny quota from Chromium itself (CDP Storage.overrideQuotaForOrigin), a run trains and pauses, the
// page says its state does not fit and offers it as a download; leaving the page asks first; the
// downloaded file, loaded back after a reload, continues from the paused step (its metrics.csv has every
// step once); an IndexedDB write refused by the full quota is a sentence; a delete asks first (keyboard).
// last of the browser scenarios: its quota override belongs to the browser, not the context
export const order = 85;
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Steps of this scenario's run: enough that a fast machine does not finish before the pause. */
const STEPS = 120;
import { check, shots, stepOf, text, uploads, waitPhase } from '../lib.mjs';

const until = async (ok, ms) => {
  for (const t = Date.now(); !ok() && Date.now() - t < ms; ) await new Promise((r) => setTimeout(r, 50));
};

export async function run({ browser, base, fx }) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.type());
    void d.dismiss(); // "stay on the page"
  });
  const cdp = await ctx.newCDPSession(page);
  const origin = new URL(base).origin;
  const quota = async (room) => {
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    await cdp.send('Storage.overrideQuotaForOrigin', room === null ? { origin } : { origin, quotaSize: usage + room });
    return usage;
  };

  await page.goto(`${base}/?demo=${fx.manifest}`);
  await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });
  const use0 = await text(page, 'storage-use');
  check('the saved-runs panel shows the storage used and left', /^Storage: [\d.]+ (B|KiB|MiB|GiB) used of [\d.]+ (KiB|MiB|GiB) \([\d.]+ (B|KiB|MiB|GiB) left\)\.$/.test(use0), use0);

  // room for the run record (KiBs of metrics), not for its state (weights + AdamW moments). Chromium
  // enforces this quota on IndexedDB writes but its navigator.storage.estimate() still reports the
  // default, so this is the case the page cannot foresee: IndexedDB itself refuses the state.
  await quota(160 * 1024);

  await page.locator('#arg-max_steps').fill(String(STEPS));
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-loss-alt]')?.getAttribute('data-points')) >= 2, null, { timeout: 180_000 });
  // leaving mid-run asks first (the dialog is dismissed: the page stays)
  await page.close({ runBeforeUnload: true });
  await until(() => dialogs.length > 0, 10_000);
  await page.getByRole('button', { name: 'Pause' }).click();
  check('closing the tab mid-run asks first', dialogs.includes('beforeunload') && !page.isClosed(), dialogs.join(','));
  await waitPhase(page, 'paused', 60_000);
  const pausedStep = stepOf(await text(page, 'run-step'));
  const notice = page.getByTestId('storage-notice');
  await notice.waitFor({ timeout: 30_000 });
  const sentence = await notice.locator('p').textContent();
  console.log(`    page says: ${sentence}`);
  check('a state that does not fit is a sentence, not a silent "Paused"', sentence.includes(`state at step ${pausedStep}`) && sentence.includes('does not fit') && sentence.includes('QuotaExceededError'), sentence);
  const row = page.locator(`tr[data-status=paused][data-step="${pausedStep}"]`);
  await row.waitFor({ timeout: 30_000 });
  check('the run record itself is saved and lists no state', (await row.textContent()).includes('no saved state'), (await row.textContent()).slice(0, 160));

  // with the state only in memory, reloading asks first too
  const before = dialogs.length;
  await page.close({ runBeforeUnload: true });
  await until(() => dialogs.length > before, 10_000);
  await page.waitForTimeout(200);
  check('leaving with the state only in memory asks first', dialogs.length > before && !page.isClosed());

  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), notice.getByRole('button', { name: /Download the state/ }).click()]);
  const statePath = join(uploads, dl.suggestedFilename());
  await dl.saveAs(statePath);
  const bytes = readFileSync(statePath);
  check('the download is a real state file', dl.suggestedFilename().endsWith(`-step${pausedStep}.dpostate`) && bytes.subarray(0, 8).toString() === 'DPOSTATE' && bytes.length > 100_000, `${dl.suggestedFilename()} ${bytes.length} bytes`);
  await page.screenshot({ path: join(shots, 'storage-01-no-room.png'), fullPage: true });

  // a reload now goes without asking; the file continues the run from its step
  const n = dialogs.length;
  await page.reload();
  await page.getByTestId('dataset-report').waitFor({ timeout: 90_000 });
  check('after the download, a reload does not ask', dialogs.length === n);
  await page.getByLabel('Load a downloaded state file').setInputFiles(statePath);
  await page.waitForFunction((s) => {
    const m = /step (\d+)/.exec(document.querySelector('[data-testid=run-step]')?.textContent ?? '');
    return m && Number(m[1]) > s;
  }, pausedStep, { timeout: 120_000 });
  const status = await text(page, 'status-line');
  check('the loaded state continues the run from its step', new RegExp(`from step ${pausedStep}\\b`).test(status), status);

  // now a quota so full that even the run record is refused by IndexedDB itself
  await quota(512);
  const err = page.getByTestId('storage-error');
  await err.waitFor({ timeout: 60_000 });
  const refused = await err.textContent();
  console.log(`    page says: ${refused}`);
  check('an IndexedDB write refused by the full quota is a sentence', refused.startsWith("The browser's storage for this page is full, so saving the run failed"), refused);
  await waitPhase(page, 'finished', 240_000);
  check('the continued run finishes', stepOf(await text(page, 'run-step')) === STEPS);
  const [csvDl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Metrics CSV' }).click()]);
  const csvPath = join(uploads, 'continued-metrics.csv');
  await csvDl.saveAs(csvPath);
  const steps = readFileSync(csvPath, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  check('its history has every step once: the first new step is the paused step + 1', steps.length === STEPS && steps.every((s, i) => s === i + 1), `${steps.length} rows, steps ${steps.slice(Math.max(0, pausedStep - 2), pausedStep + 2).join(',')} around ${pausedStep}`);
  await page.screenshot({ path: join(shots, 'storage-02-full.png'), fullPage: true });
  // the finished run's state did not fit either: said again, and downloaded before leaving
  const last = await notice.locator('p').textContent();
  check('the final state that does not fit is offered too', last.includes(`state at step ${STEPS}`), last);
  await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), notice.getByRole('button', { name: /Download the state/ }).click()]);

  // delete asks first, by keyboard: Escape keeps the run, Enter on "Yes, delete" removes it
  await quota(null);
  await page.reload();
  const rows = page.locator('table[data-testid=runs] tbody tr');
  await rows.first().waitFor({ timeout: 30_000 });
  const count = await rows.count();
  const size = await rows.first().getByTestId('run-size').textContent();
  check('each saved run shows its size', /^[\d.]+ (B|KiB|MiB|GiB)$/.test(size), size);
  await rows.first().getByRole('button', { name: /^Delete / }).focus();
  await page.keyboard.press('Enter');
  const confirm = page.getByTestId('delete-confirm');
  await confirm.waitFor({ timeout: 5_000 });
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached', timeout: 5_000 });
  const back = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
  check('delete asks first, with the confirm focused, and Escape keeps the run', focused === 'Yes, delete' && (await rows.count()) === count, `focus on "${focused}"`);
  check('after Escape the focus is back on the run\'s Delete button', back?.startsWith('Delete ') === true, back);
  await page.keyboard.press('Enter');
  await confirm.waitFor({ timeout: 5_000 });
  await page.keyboard.press('Enter');
  await page.waitForFunction((c) => document.querySelectorAll('table[data-testid=runs] tbody tr').length === c - 1 || (c === 1 && !document.querySelector('table[data-testid=runs]')), count, { timeout: 10_000 });
  check('Enter on "Yes, delete" deletes the run', true, `${count} -> ${count - 1} runs`);
  check('no uncaught page errors', errors.length === 0, errors.join(' | '));
  // the override outlives the context (it is the browser's, per origin): give the origin its quota back
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await ctx.close();
}
