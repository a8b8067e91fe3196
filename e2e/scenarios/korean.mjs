// e2e scenario "korean": a Chromium context in the ko-KR locale opens the page in Korean (<html lang>,
// header, run bar), trains the built-in demo a few steps, and shows the charts' text alternatives (TRL's
// metric names and the numbers kept), the diagnosis panel and a bad file's sentence in Korean. The header
// switch to English changes the visible strings, the choice survives a reload, and back to Korean
// gives the Korean page again. A scan of every visible text node (all folds open: the setup, the
// explainers, the runs list, a dataset error and a trained demo) fails on any English sentence left.
export const order = 60;
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { check, shots, text } from '../lib.mjs';

const HANGUL = /[\uac00-\ud7a3]/;
const hangulShare = (s) => {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => /[A-Za-z\uac00-\ud7a3]{2,}/.test(l));
  return lines.length ? lines.filter((l) => HANGUL.test(l)).length / lines.length : 0;
};

// What is not a sentence of the page, so the scan skips it:
// - content under translate="no": the user's data and the model's text (pairs, samples, tokens, file
//   and model names), which the page shows as they are in any language;
// - names written as in TRL / the field, which the Korean page keeps: tokens with _ / . or digits
//   (loss_type, rewards/margins, Qwen3-0.6B, pairs.jsonl, 5e-6), acronyms and CamelCase (DPO, TRL, KL,
//   WebGPU, LoRA, AdamW), and the few plain words below: names (Hugging Face Hub, Bradley-Terry) and the
//   symbols formulas are written with in ASCII (beta x (log pi - log pi_ref)). TRL's loss kinds are
//   single lowercase words shown in lists with commas, which break a run.
const NAME_WORDS = new Set(['Hugging', 'Face', 'Hub', 'Parquet', 'Bradley', 'Terry', 'Llama', 'Qwen', 'beta', 'x', 'log', 'pi', 'sigma', 'h']);
/** English left in a text: runs of 3+ consecutive plain Latin words (a comma, colon or semicolon ends a run). */
export function englishRuns(s, names = NAME_WORDS) {
  const runs = [];
  let cur = [];
  const flush = () => {
    if (cur.length >= 3) runs.push(cur.join(' '));
    cur = [];
  };
  for (const tok of s.split(/\s+/)) {
    const m = /^[("'“‘]*([A-Za-z]+(?:['’][a-z]+)?)([)"'”’.,:;!?…]*)$/.exec(tok);
    const w = m?.[1];
    const isWord = w && !names.has(w) && !/^[A-Z0-9]{2,}$/.test(w) && !/[a-z][A-Z]/.test(w);
    if (!isWord) {
      flush();
      continue;
    }
    cur.push(tok);
    if (/[,:;]$/.test(m[2])) flush();
  }
  flush();
  return runs;
}

/** Every visible text node of the page (every <details> opened first), with the English runs in it. */
async function scanEnglish(page) {
  return page.evaluate(([src, names]) => {
    const runsOf = new Function(`return ${src}`)();
    const nameSet = new Set(names);
    for (const d of document.querySelectorAll('details')) d.open = true;
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('[translate="no"], script, style, code, .katex') || !el.checkVisibility({ visibilityProperty: true })) continue;
      if (runsOf(n.textContent ?? '', nameSet).length) found.push(`${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}: ${n.textContent.trim().slice(0, 160)}`);
    }
    // what shows on hover or is read out: tooltips, placeholders, accessible names, image text; a name
    // shown under translate="no" (a run's name) may stand inside such a sentence ("<run> 삭제")
    const dataNames = [...new Set([...document.querySelectorAll('[translate="no"]')].map((e) => e.textContent.trim()).filter((s) => s.length > 3))].sort((a, b) => b.length - a.length);
    for (const el of document.body.querySelectorAll('[title], [placeholder], [aria-label], [alt]')) {
      if (el.closest('[translate="no"]') || !el.checkVisibility({ visibilityProperty: true })) continue;
      // a hidden subtree's accessible names are read out by nothing (recharts' own English "legend icon" labels sit in the charts' aria-hidden drawing)
      const spoken = !el.closest('[aria-hidden="true"]');
      for (const a of spoken ? ['title', 'placeholder', 'aria-label', 'alt'] : ['title', 'placeholder']) {
        const v = dataNames.reduce((s, n) => s.split(n).join(' '), el.getAttribute(a) ?? '');
        if (v && runsOf(v, nameSet).length) found.push(`${el.tagName.toLowerCase()}@${a}: ${v.slice(0, 160)}`);
      }
    }
    return [...new Set(found)];
  }, [englishRuns.toString(), [...NAME_WORDS]]);
}

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
  const english = new Set(await scanEnglish(page)); // the trained demo with every fold open
  // the export's README in the page's language, the English one beside it
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.getByRole('button', { name: '모델 + 스크립트 내보내기' }).click()]);
  const zipPath = join(shots, 'korean-export.zip');
  await dl.saveAs(zipPath);
  const zip = unzipSync(new Uint8Array(readFileSync(zipPath)));
  const readme = new TextDecoder().decode(zip['README.txt'] ?? new Uint8Array());
  const readmeEn = new TextDecoder().decode(zip['README.en.txt'] ?? new Uint8Array());
  check('the export\'s README is Korean (README.en.txt beside it) and names the same commands', readme.startsWith('DPO 플레이그라운드 내보내기:') && readme.includes('python train_trl.py') && readme.includes('torchrun --nproc_per_node N train_trl.py') && readmeEn.startsWith('DPO Playground export:'), readme.split('\n')[0]);
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
  for (const e of await scanEnglish(page)) english.add(e); // after a reload: the runs list, a dataset error
  for (const source of ['hub', 'files', 'demo']) {
    await page.locator(`label:has(> input[name=model-source][value=${source}])`).click(); // the model panel's other forms
    for (const e of await scanEnglish(page)) english.add(e);
  }
  // the error already shown is said again in the other language, and back
  await page.getByRole('button', { name: 'English' }).click();
  const badEn = await text(page, 'dataset-error');
  await page.getByRole('button', { name: '한국어' }).click();
  check('the bad file\'s sentence switches with the page (English, then Korean again)', /^The file is not JSONL, JSON or Parquet/.test(badEn) && (await text(page, 'dataset-error')) === bad, badEn);
  // a file with bad rows: the panel's skipped-row lines, reason counts and token notes (the demo tokenizer knows few
  // of these words) are Korean, and say the same line numbers as the engine
  const rows = [
    ...Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `Question ${i}?`, chosen: ` Fine answer ${i}.`, rejected: ` Poor answer ${i}.` })),
    '{"prompt": "broken", "chosen": ',
    JSON.stringify({ prompt: 'q', chosen: 'only chosen' }),
    JSON.stringify({ prompt: 'q', chosen: 'same', rejected: 'same' }),
    JSON.stringify({ prompt: 'q', chosen: 3, rejected: 'b' }),
  ];
  await page.getByLabel('데이터셋 파일', { exact: true }).setInputFiles({ name: 'bad-rows.jsonl', mimeType: 'application/json', buffer: Buffer.from(rows.join('\n') + '\n') });
  await page.locator('details.skipped').waitFor({ timeout: 60_000 });
  await page.locator('details.skipped summary').click();
  const skipLines = await page.locator('details.skipped li').allInnerTexts();
  check(
    "a file's skipped rows are listed in Korean with their line numbers",
    skipLines.length === 8 && skipLines.every((l) => /[\uac00-\ud7a3]/.test(l)) && [7, 8, 9, 10].every((n) => skipLines.some((l) => l.startsWith(`${n}번째 줄: `))),
    skipLines.join(' | '),
  );
  const notes = (await page.getByTestId('token-notes').count()) ? await text(page, 'token-notes') : '';
  check("the token report's note (words outside the demo's vocabulary) is Korean", /^이 데이터셋의 (대부분이|일부가) 모델의 어휘\(\d+개 토큰\) 밖에 있습니다/.test(notes), notes);
  for (const e of await scanEnglish(page)) english.add(e);
  check('no English sentence is left on the Korean page (every visible text node, every fold open)', english.size === 0, `\n  ${[...english].join('\n  ')}`);
  check('no page errors', errors.length === 0, errors.join(' | '));
  await ctx.close();
}
