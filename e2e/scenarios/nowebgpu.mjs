// e2e scenario "nowebgpu": Without WebGPU the page explains which browsers work.
export const order = 90;
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BASE_ARGS, check, CHROMIUM, shots } from '../lib.mjs';

/** Launches its own browser without WebGPU. */
export const ownBrowser = true;

export async function run({ base }) {
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
