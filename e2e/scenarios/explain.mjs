// e2e scenario "explain".
export const order = 35;
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { check, dist, secs, shots, text, waitPhase } from '../lib.mjs';

/**
 * The explainer on the real demo (issue 16): the demo's default settings (20 steps) raise no alarm; the demo
 * model on 32 pairs at an absurd learning rate (1e-2, 5x the demo's) memorises them and the diagnosis names
 * over-optimisation with its evidence, the evidence link moves the focus to its chart; the token view colours
 * the real tokens of a pair and its sums equal the pair's log-ratios; formulas are KaTeX; keyboard users reach
 * every new control; axe finds no violation in the new panels; the frontier compares loss types at one beta;
 * a phone and a zoomed projector see the Train button in the first screen.
 */
export async function run({ browser, base }) {
  const demoManifest = join(dist, 'demo', 'manifest.json');
  const m = JSON.parse(readFileSync(demoManifest, 'utf8'));
  // the frontier probe is CPU work in the worker: a few short samples keep the scenario short
  const frontier = { prompts: 4, every_steps: 10, max_new_tokens: 16, temperature: 1, seed: 7 };
  mkdirSync(join(dist, 'e2e'), { recursive: true });
  writeFileSync(join(dist, 'e2e', 'manifest-explain-default.json'), JSON.stringify({ ...m, recommended: { ...m.recommended, max_steps: 20, frontier } }));
  const pairs = readFileSync(join(dist, 'demo', 'pairs-train.jsonl'), 'utf8').split('\n').slice(0, 32).join('\n') + '\n';
  writeFileSync(join(dist, 'e2e', 'pairs-train-32.jsonl'), pairs);
  writeFileSync(join(dist, 'e2e', 'manifest-explain-32.json'), JSON.stringify({ ...m, name: 'demo on 32 pairs', train: 'e2e/pairs-train-32.jsonl', recommended: { ...m.recommended, max_steps: 20, eval_steps: 5, frontier } }));

  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const train = async (url, setup) => {
    await page.goto(url);
    await page.getByTestId('dataset-report').waitFor({ timeout: 120_000 });
    await setup?.();
    const btn = page.getByRole('button', { name: 'Train', exact: true });
    await page.waitForFunction(() => ![...document.querySelectorAll('button')].find((b) => b.textContent === 'Train')?.disabled, null, { timeout: 60_000 });
    await btn.click();
    await waitPhase(page, 'finished', 600_000);
  };

  // 1. the demo's default settings (20 of its 60 steps): no alarm
  await train(`${base}/?demo=e2e/manifest-explain-default.json`);
  const alarms0 = await page.getByTestId('diagnosis').getAttribute('data-alarms');
  const dtext0 = await text(page, 'diagnosis');
  check('the default demo run raises no alarm in the diagnosis', alarms0 === '0' && /No alarm after 20 steps/.test(dtext0), dtext0.slice(0, 200));
  console.log(`${secs()}s default run diagnosed: ${dtext0.slice(0, 160)}`);
  // its token view: the per-token log-ratios sum to the pair's log-ratios (summed in float32 on the GPU)
  const sumsOf = () =>
    page.evaluate(() =>
      ['chosen', 'rejected'].map((w) => {
        const el = document.querySelector(`[data-testid=token-sum-${w}]`);
        const btns = [...document.querySelectorAll(`[data-testid=tokens-${w}] button.tok`)];
        const num = (b, k) => Number(b.getAttribute(k));
        const ratios = btns.map((b) => num(b, 'data-ratio'));
        // recursive float32 summation is good to n * 2^-24 * sum |x| (Higham); the GPU sums policy and reference apart
        const bound = btns.length * 2 ** -24 * btns.reduce((a, b) => a + Math.abs(num(b, 'data-policy')) + Math.abs(num(b, 'data-reference')), 0);
        return { w, n: ratios.length, sum: ratios.reduce((a, x) => a + x, 0), shown: Number(el?.getAttribute('data-sum')), seq: Number(el?.getAttribute('data-seq')), bound };
      }),
    );
  await page.locator('.pair-list button').first().click();
  await page.getByTestId('token-view').waitFor({ timeout: 10_000 });
  const sums0 = await sumsOf();
  check('default run: the token log-ratios sum to the pair\'s sequence log-ratios within 1e-4', sums0.every((s) => s.n > 0 && Math.abs(s.sum - s.seq) < 1e-4 && Math.abs(s.shown - s.seq) < 1e-4), JSON.stringify(sums0));

  // 2. 32 pairs at learning_rate 1e-2: over-optimisation with its evidence
  await train(`${base}/?demo=e2e/manifest-explain-32.json`, async () => {
    await page.locator('#arg-learning_rate').fill('0.01');
    await page.locator('#arg-learning_rate').blur();
  });
  const over = page.getByTestId('diagnosis-over-optimisation');
  await over.waitFor({ timeout: 10_000 }).catch(() => undefined);
  const otext = (await over.count()) ? await over.textContent() : '';
  check(
    'an absurd learning rate on the demo shows the over-optimisation diagnosis with its evidence',
    (await over.getAttribute('data-severity').catch(() => null)) === 'alarm' && /rewards\/accuracies 1\.000/.test(otext) && /loss \d/.test(otext) && /(KL per token|eval_loss)/.test(otext),
    otext.slice(0, 300),
  );
  // the evidence link moves the keyboard focus onto its chart
  const link = over.getByRole('link').first();
  const href = await link.getAttribute('href').catch(() => '');
  await link.focus().catch(() => undefined);
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement?.id ?? '');
  check('an evidence link focuses the chart it points at', href === `#${focused}` && focused.startsWith('chart-'), `${href} -> ${focused}`);
  // the same finding in Korean after the header switch: the page says the engine's codes and numbers itself
  const oinner = (await over.count()) ? await over.innerText() : '';
  await page.getByRole('button', { name: '한국어' }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'ko');
  const kotext = (await over.count()) ? await over.innerText() : '';
  const numbers = (s) => (s.match(/-?\d+(?:[.,]\d+)*(?:E-?\d+)?/g) ?? []).join(' ');
  check(
    'the over-optimisation finding in Korean: title, evidence with the same numbers, why and what to try',
    kotext.includes('과최적화: 학습 쌍은 다 풀렸는데 정책이 계속 멀어집니다') &&
      kotext.includes('rewards/accuracies 1.000: 모든 학습 쌍이 이미 올바른 순서입니다') &&
      /loss \S+ \(시작 값 0\.693\)/.test(kotext) &&
      kotext.includes('이유:') &&
      kotext.includes('learning_rate를 (3-10배) 낮추거나') &&
      !/Over-optimisation|every training pair|Why:|Lower learning_rate|nats of log-ratio/.test(kotext) &&
      numbers(kotext.split('이유:')[0]) === numbers(oinner.split('Why:')[0]),
    kotext.slice(0, 400),
  );
  await page.getByRole('button', { name: 'English' }).click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');

  // 3. the token view of a pair
  await page.getByTestId('pair-scatter').waitFor({ timeout: 30_000 });
  await page.locator('.pair-list button').first().click();
  const view = page.getByTestId('token-view');
  await view.waitFor({ timeout: 10_000 });
  const toks = view.locator('button.tok');
  const n = await toks.count();
  const shown = await toks.evaluateAll((els) => els.map((e) => ({ t: e.textContent, bg: getComputedStyle(e).backgroundColor, r: Number(e.getAttribute('data-ratio')) })));
  const colours = new Set(shown.map((s) => s.bg));
  const real = shown.filter((s) => /^[·]?[a-z.,!'?]+$/i.test(s.t ?? '')).length;
  check('the token view colours the real tokens of the pair by their log-ratio', n >= 4 && real >= n / 2 && colours.size >= 3, `${n} tokens, ${real} words, ${colours.size} colours: ${shown.slice(0, 8).map((s) => `${s.t} ${s.r.toFixed(3)}`).join(' | ')}`);
  // here log pi(y_w) is ~ -280 after memorising: the GPU's float32 sums over the completion are then good to
  // ~1e-4 only, so the bound is float32 summation's (n 2^-24 sum |x|) rather than 1e-4
  const sums = await sumsOf();
  check('over-optimised run: the token log-ratios sum to the sequence log-ratios within float32 summation error', sums.every((s) => s.n > 0 && Math.abs(s.sum - s.seq) <= s.bound && s.shown === s.sum), JSON.stringify(sums.map((s) => ({ ...s, diff: Math.abs(s.sum - s.seq) }))));
  // hover and keyboard show the per-token values
  await toks.nth(1).hover();
  const hover = await text(page, 'tokens-chosen-detail');
  await toks.first().focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  const key = await text(page, 'tokens-chosen-detail');
  const keyFocus = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
  check('per-token values on hover and by arrow keys', /^token 2 of \d+ .*log pi -?\d/.test(hover) && /^token 3 of/.test(key) && keyFocus.startsWith('token 3 of'), `${hover} / ${key}`);
  await view.screenshot({ path: join(shots, 'explain-token-view.png') });
  const upd = await text(page, 'one-update');
  check('one update by hand lists h, beta h, the loss and the weight before and after', /before \(step \d+\)/.test(upd) && /after \(step 20\)/.test(upd) && (await page.locator('[data-testid=one-update] tr[data-key]').count()) === 8, upd.slice(0, 200));

  // 4. the math, typeset
  await page.locator('summary', { hasText: 'The math, typeset' }).click();
  await page.locator('summary', { hasText: 'RLHF next to DPO' }).click();
  const katex = await page.locator('[data-testid=math-panel] .katex').count();
  const mathml = await page.locator('[data-testid=math-panel] math').count();
  check('the formulas are rendered by KaTeX (HTML and MathML)', katex >= 8 && mathml >= 8 && (await page.locator('.katex-error').count()) === 0, `${katex} .katex, ${mathml} <math>`);
  const mem = await text(page, 'rlhf-memory');
  check('RLHF next to DPO counts 4, 2 and 1 models with this model\'s bytes', /PPO.*4: policy, reference, reward model, value model/.test(mem) && /DPO \(this run\)2: policy, reference/.test(mem) && /MiB/.test(mem), mem.slice(0, 200));

  // 5. keyboard users reach every new control
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
  await page.locator('body').focus();
  const want = { 'diagnosis link': false, 'token': false, 'pair button': false, 'math fold': false, 'rlhf fold': false, 'compare loss types': false };
  for (let i = 0; i < 700 && Object.values(want).some((v) => !v); i++) {
    await page.keyboard.press('Tab');
    const a = await page.evaluate(() => {
      const e = document.activeElement;
      return { tag: e?.tagName ?? '', cls: e?.className ?? '', text: (e?.textContent ?? '').slice(0, 40), inDiag: !!e?.closest('[data-testid=diagnosis]') };
    });
    if (a.tag === 'A' && a.inDiag) want['diagnosis link'] = true;
    if (a.cls === 'tok') want.token = true;
    if (a.tag === 'BUTTON' && a.text.startsWith('pair ')) want['pair button'] = true;
    if (a.tag === 'SUMMARY' && a.text.startsWith('The math')) want['math fold'] = true;
    if (a.tag === 'SUMMARY' && a.text.startsWith('RLHF')) want['rlhf fold'] = true;
    if (a.tag === 'BUTTON' && a.text === 'Compare loss types') want['compare loss types'] = true;
  }
  check('keyboard users reach every new control with Tab', Object.values(want).every(Boolean), JSON.stringify(want));

  // 6. accessibility of the new panels
  const axe = await new AxeBuilder({ page }).include('[data-testid=diagnosis]').include('[data-testid=token-view]').include('[data-testid=one-update]').include('[data-testid=math-panel]').include('[data-testid=rlhf-panel]').analyze();
  check('axe finds no accessibility violation in the new panels', axe.violations.length === 0, axe.violations.map((v) => `${v.id}: ${v.nodes.length} (${v.nodes[0]?.target})`).join('; '));
  // compare methods: one short run per loss type at the same beta, each a curve on the frontier
  await page.getByLabel('Loss types to compare').fill('sigmoid, ipo');
  await page.getByLabel('Steps per run').fill('4');
  await page.getByRole('button', { name: 'Compare loss types' }).click();
  await page.getByTestId('sweep-status').waitFor({ timeout: 30_000 });
  const status = await text(page, 'sweep-status');
  await page.waitForFunction(() => !document.querySelector('[data-testid=sweep-status]'), null, { timeout: 300_000 });
  const falt = await text(page, 'frontier-alt');
  check('the demo compares loss types at the same beta on the frontier', /loss_type sigmoid/.test(status) && /beta 0\.1 sigmoid: step 4/.test(falt) && /beta 0\.1 ipo: step 4/.test(falt), `${status} / ${falt}`);
  check('no uncaught page errors in the explainer', errors.length === 0, errors.join(' | '));
  await page.screenshot({ path: join(shots, 'explain-page.png'), fullPage: true });
  await ctx.close();

  // 7. classroom screens: the Train button within the first screen height
  for (const [name, opts] of [
    ['phone 390x844', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true }],
    ['projector 1280x720 at 150%', { viewport: { width: 853, height: 480 }, deviceScaleFactor: 1.5 }],
  ]) {
    const c = await browser.newContext(opts);
    const p = await c.newPage();
    await p.goto(`${base}/`);
    const btn = p.getByRole('button', { name: 'Train', exact: true });
    await btn.waitFor({ timeout: 60_000 });
    const box = await btn.boundingBox();
    const h = opts.viewport.height;
    const expl = await p.locator('.explainer').boundingBox();
    check(`${name}: the Train button is within the first screen, the explainer right after the folded setup`, box !== null && box.y + box.height <= h && expl !== null && expl.y < 2 * h, `Train at y ${box?.y.toFixed(0)}, explainer at y ${expl?.y.toFixed(0)}, screen ${h}`);
    await p.screenshot({ path: join(shots, `explain-${name.split(' ')[0]}.png`) });
    await c.close();
  }
}
