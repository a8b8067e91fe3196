// e2e scenario "korean": a Chromium context in the ko-KR locale opens the page in Korean (<html lang>,
// header, run bar), trains the built-in demo a few steps, and shows the charts' text alternatives (TRL's
// metric names and the numbers kept), the diagnosis panel and a bad file's sentence in Korean. The header
// switch to English changes the visible strings, the choice survives a reload, and back to Korean
// gives the Korean page again.
export const order = 60;
import { join } from 'node:path';
import { check, shots, text } from '../lib.mjs';

const HANGUL = /[\uac00-\ud7a3]/;
const hangulShare = (s) => {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => /[A-Za-z\uac00-\ud7a3]{2,}/.test(l));
  return lines.length ? lines.filter((l) => HANGUL.test(l)).length / lines.length : 0;
};

export async function run({ browser, base, fx }) {
  const ctx = await browser.newContext({ locale: 'ko-KR', viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/`);
  check('navigator.languages is Korean in this context', (await page.evaluate(() => navigator.languages[0])) === 'ko-KR');
  await page.getByTestId('dataset-report').waitFor({ timeout: 120_000 });
  check('the page opens in Korean: <html lang="ko">', (await page.evaluate(() => document.documentElement.lang)) === 'ko');
  check('the header is Korean', (await page.locator('header h1').textContent()) === 'DPO 플레이그라운드', await page.locator('header').innerText());
  check('the switch offers 한국어 / English, Korean pressed', (await page.getByRole('button', { name: '한국어' }).getAttribute('aria-pressed')) === 'true' && (await page.getByRole('button', { name: 'English' }).count()) === 1);

  // a few steps of the demo
  await page.locator('#arg-max_steps').fill('4');
  await page.locator('#arg-eval_steps').fill('2');
  await page.getByRole('button', { name: '학습 시작', exact: true }).click();
  await page.waitForFunction(() => ['finished', 'stopped', 'error'].includes(document.querySelector('[data-testid=run-phase]')?.getAttribute('data-phase') ?? ''), null, { timeout: 240_000 });
  check('the demo trains to the end', (await page.getByTestId('run-phase').getAttribute('data-phase')) === 'finished', await text(page, 'run-phase'));
  check('the phase and step read in Korean', (await text(page, 'run-phase')) === '완료' && /^스텝 4 \/ 4$/.test(await text(page, 'run-step')), `${await text(page, 'run-phase')} · ${await text(page, 'run-step')}`);
  const alts = {};
  for (const id of ['loss', 'rewards', 'margins', 'accuracies', 'logps', 'kl', 'optim']) alts[id] = await text(page, `chart-${id}-alt`);
  check('the charts\' text alternatives are Korean', Object.values(alts).every((a) => a.startsWith('최신 값:') && /스텝 \d+에서/.test(a) && /점 \d+개/.test(a)), alts.loss);
  check('...with TRL\'s metric names and finite numbers kept', /rewards\/margins -?\d/.test(alts.margins) && /kl\/token_mean_exact -?\d/.test(alts.kl) && /eval_loss/.test(alts.loss) && (alts.loss.match(/-?\d+\.\d+/g) ?? []).every((n) => Number.isFinite(Number(n))), alts.margins);
  const diag = await page.getByTestId('diagnosis').innerText();
  check('the diagnosis panel is Korean', diag.startsWith('진단') && HANGUL.test(diag.slice(2)) && !/No alarm|Load pairs/.test(diag), diag.slice(0, 160));
  // a finding: a max_length that cuts most completions is named by the truncation rule, in Korean
  await page.locator('#arg-max_length').fill('8');
  const finding = page.getByTestId('diagnosis-truncation');
  await finding.waitFor({ timeout: 10_000 });
  const f = await finding.innerText();
  check('a diagnosis finding reads in Korean (title, why, what to try)', f.includes('잘라내기가 대부분의 응답을 자릅니다') && f.includes('이유:') && f.includes('해 볼 것:') && f.includes('max_length'), f.slice(0, 200));
  await page.screenshot({ path: join(shots, 'korean-trained.png'), fullPage: true });

  // the switch: English, kept over a reload, then Korean again
  const ko = await page.locator('body').innerText();
  await page.getByRole('button', { name: 'English' }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = await page.locator('body').innerText();
  const koLines = new Set(ko.split('\n').filter((l) => HANGUL.test(l) && l.trim() !== '한국어')); // the switch names itself in Korean
  const leftKorean = en.split('\n').filter((l) => HANGUL.test(l) && l.trim() !== '한국어');
  check('English: the Korean strings are gone', leftKorean.length === 0 && (await text(page, 'run-phase')) === 'finished' && en.includes('Live metrics'), leftKorean.slice(0, 3).join(' | '));
  check(`English: every one of the ${koLines.size} Korean lines changed`, koLines.size >= 100 && [...koLines].every((l) => !en.includes(l)), `Korean share of text lines ${hangulShare(ko).toFixed(2)}, English ${hangulShare(en).toFixed(2)}`);
  await page.screenshot({ path: join(shots, 'korean-switched-en.png'), fullPage: true });
  await page.getByRole('button', { name: '한국어' }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'ko');
  const ko2 = await page.locator('body').innerText();
  const back = [...koLines].filter((l) => ko2.includes(l)).length / koLines.size;
  check('back to Korean: the same Korean strings again', back === 1 && ko2.includes('실시간 지표') && ko2.includes('하이퍼파라미터'), `${(100 * back).toFixed(0)}% of the Korean lines of before`);
  // the choice is kept: English over a reload although the browser asks for Korean
  await page.getByRole('button', { name: 'English' }).click();
  await page.reload();
  await page.getByTestId('dataset-report').waitFor({ timeout: 120_000 });
  check('the choice is kept over a reload (English in a ko-KR browser)', (await page.evaluate(() => document.documentElement.lang)) === 'en' && (await page.locator('header h1').textContent()) === 'DPO Playground');
  await page.getByRole('button', { name: '한국어' }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'ko');

  // a bad file's sentence
  await page.getByLabel('데이터셋 파일', { exact: true }).setInputFiles(fx.png);
  await page.getByTestId('dataset-error').waitFor({ timeout: 30_000 });
  const bad = await text(page, 'dataset-error');
  check('a PNG named .jsonl is refused with a Korean sentence', /^이 파일은 JSONL, JSON, Parquet 중 어느 것도 아닙니다/.test(bad), bad);
  await page.screenshot({ path: join(shots, 'korean-bad-file.png'), fullPage: true });
  check('no page errors', errors.length === 0, errors.join(' | '));
  await ctx.close();
}
