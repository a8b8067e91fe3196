#!/usr/bin/env node
// End-to-end test of the playground in real Chromium with WebGPU (SwiftShader on CPU-only machines):
// builds the page, serves it with `vite preview` on a free localhost port, runs every scenario in
// e2e/scenarios/ (one module each: `export async function run({ browser, base, fx })`, optional
// `export const ownBrowser = true` and `export const order = n`), prints one line per check and exits
// non-zero when one fails. A failing scenario does not stop the others. Screenshots go to test-results/e2e/.
//
//   node e2e/run.mjs   (E2E_SKIP_BUILD=1 to reuse dist/, E2E_HEADED=1 to watch, E2E_ONLY=name[,name])
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { writeFixtures } from './fixture.mjs';
import { BASE_ARGS, check, CHROMIUM, dist, results, root, secs, shots, uploads } from './lib.mjs';

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

async function loadScenarios() {
  const dir = join(root, 'e2e', 'scenarios');
  const mods = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
    const m = await import(pathToFileURL(join(dir, f)).href);
    mods.push({ name: f.replace(/\.mjs$/, ''), order: m.order ?? 50, ownBrowser: m.ownBrowser === true, run: m.run });
  }
  return mods.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

async function main() {
  const all = await loadScenarios();
  const only = (process.env.E2E_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`E2E_ONLY names no scenario: ${unknown.join(', ')} (known: ${all.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
  const chosen = only.length ? all.filter((s) => only.includes(s.name)) : all;
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  if (!process.env.E2E_SKIP_BUILD) {
    console.log(`${secs()}s building the page`);
    await build({ root, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  }
  const fx = writeFixtures(dist, uploads, join(root, 'public', 'demo'));
  const port = await freePort();
  const server = await preview({ root, logLevel: 'warn', build: { outDir: dist }, preview: { port, strictPort: true, host: '127.0.0.1', open: false } });
  const base = `http://127.0.0.1:${port}`;
  console.log(`${secs()}s serving ${base}`);
  const failed = [];
  let browser = null;
  for (const s of chosen) {
    console.log(`${secs()}s scenario ${s.name}`);
    try {
      if (!s.ownBrowser && !browser) {
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu', ...BASE_ARGS], headless: !process.env.E2E_HEADED });
      }
      await s.run({ browser: s.ownBrowser ? null : browser, base, fx });
    } catch (e) {
      failed.push(s.name);
      if (!String(e.message).startsWith('check failed')) {
        try {
          check(`${s.name} (${String(e.message).split('\n')[0]})`, false);
        } catch {
          /* recorded */
        }
      }
      // a scenario that crashed the browser must not take the next ones with it
      if (browser && !browser.isConnected()) browser = null;
    }
  }
  await browser?.close();
  await new Promise((r) => server.httpServer.close(r));
  rmSync(uploads, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  console.log(`${secs()}s ${passed}/${results.length} checks passed${failed.length ? ` - FAILED: ${failed.join(', ')}` : ''}; screenshots in ${shots}`);
  process.exit(failed.length || results.length === 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
