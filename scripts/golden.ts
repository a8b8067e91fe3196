// npm run golden -- <fixture-dir> [--out <dir>]
// Prints one line per quantity (max error, tolerance) and `golden: N passed, M failed`; exit 0 iff all pass.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Gpu } from '../src/gpu/context';
import { runGolden } from '../src/dpo/golden';
import { writeSafetensors } from '../src/model/safetensors';
import { nodeFolderSource } from '../src/model/weights';

async function main() {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? args[outIdx + 1] : undefined;
  const dirs = args.filter((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
  if (dirs.length === 0) {
    console.error('usage: npm run golden -- <fixture-dir> [more dirs] [--out <dir>]');
    process.exit(2);
  }
  const gpu = await Gpu.create();
  console.log(`adapter: ${gpu.info.adapterName}`);
  let failed = 0;
  let passed = 0;
  for (const dir of dirs) {
    const t0 = performance.now();
    const r = await runGolden(gpu, nodeFolderSource(dir));
    for (const l of r.lines) {
      console.log(`${l.pass ? 'ok  ' : 'FAIL'} ${l.name.padEnd(58)} err ${l.err.toExponential(2)}  tol ${l.tol.toExponential(2)}${l.note ? `  (${l.note})` : ''}`);
    }
    console.log(`${dir}: ${r.passed} passed, ${r.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    failed += r.failed;
    passed += r.passed;
    if (out) {
      const target = dirs.length > 1 ? join(out, dir.replace(/\/+$/, '').split('/').pop()!) : out;
      await mkdir(target, { recursive: true });
      await writeFile(join(target, 'expected.json'), JSON.stringify(r.computedJson, null, 1));
      await writeFile(join(target, 'expected.safetensors'), writeSafetensors(r.computedTensors));
    }
  }
  console.log(`golden: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
