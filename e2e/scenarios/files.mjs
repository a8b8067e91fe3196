// e2e scenario "files": Bad files get sentences; HH-RLHF loads; a model loads from a Hub-like server.
export const order = 20;
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, HH, shots, text } from '../lib.mjs';

export async function run({ browser, base, fx }) {
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
  // HH-RLHF on the demo's 443-word tokenizer: mostly <unk>, said with the share and what to do
  await page.getByTestId('token-notes').waitFor({ timeout: 30_000 });
  const notes = await text(page, 'token-notes');
  check(
    'HH-RLHF on the demo tokenizer: the dataset panel says most tokens are <unk>, with the share and what to do',
    /Most of this dataset is outside the model's 443-token vocabulary: \d+% of its tokens \([\d,]+ of [\d,]+\) are the unknown token <unk>/.test(notes) && notes.includes('Use a model whose tokenizer covers this text'),
    notes,
  );
  const unk = await text(page, 'unknown-share');
  check('the report shows the unknown-token share', /^\d+\.\d% are <unk> \([\d,]+ of [\d,]+ tokens\)$/.test(unk.trim()), unk);
  check('the report shows the prompt/completion mismatch share', /% of pairs tokenize differently joined than apart/.test(await text(page, 'mismatch-share')), await text(page, 'mismatch-share'));
  await page.screenshot({ path: join(shots, '04-hh-dataset.png'), fullPage: true });

  // a gzip cut in half (a download that stopped) is refused with the records read before the break
  const gz = readFileSync(HH);
  await page.getByLabel('Dataset file').setInputFiles({ name: 'hh-cut.jsonl.gz', mimeType: 'application/gzip', buffer: gz.subarray(0, gz.length >> 1) });
  await page.getByTestId('dataset-error').waitFor({ timeout: 60_000 });
  const cutMsg = await text(page, 'dataset-error');
  check(
    'a gzip cut in half is refused with the count of records read before the break',
    /^The gzip file is cut short \(.*\): [\d,]+ records were read before the break, so it is refused rather than trained on in part\. Download or copy the whole file again\.$/.test(cutMsg.trim()),
    cutMsg,
  );

  await page.getByRole('radio', { name: 'Files from disk' }).check();
  await page.getByLabel('Model files').setInputFiles(fx.badModelFiles);
  await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
  const stMsg = await text(page, 'model-error');
  check('a safetensors file with a bad header shows a sentence', /safetensors/i.test(stMsg), stMsg);

  await page.getByRole('radio', { name: 'Hugging Face Hub' }).check();
  await page.getByLabel('Repo id').fill(fx.hubRepo);
  await page.getByLabel('Hub address').fill(`${base}/${fx.hubPath}`);
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  const hubLoaded = await page
    .waitForFunction((r) => document.querySelector('[data-testid=model-info]')?.textContent?.includes(r), fx.hubRepo, { timeout: 60_000 })
    .then(() => true, () => false);
  if (!hubLoaded) check('a model loads by repo id from a server that answers like the Hub', false, `${await page.getByTestId('model-error').textContent().catch(() => '')} | ${(await page.locator('section').filter({ hasText: 'Repo id' }).first().textContent().catch(() => '')).slice(0, 600)}`);
  check('a model loads by repo id from a server that answers like the Hub', (await text(page, 'model-info')).includes('gpt2'), await text(page, 'param-count'));
  await page.getByLabel('Repo id').fill('tiny/does-not-exist');
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
  check('a missing repo shows a sentence', (await text(page, 'model-error')).includes("no config.json for 'tiny/does-not-exist'"), await text(page, 'model-error'));
  await page.screenshot({ path: join(shots, '05-errors.png'), fullPage: true });
  await ctx.close();
}
