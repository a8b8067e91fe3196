// Where the shared fixtures and data live: ../shared next to the checkout (this workplace), or
// DPO_SHARED_DIR, or /work/shared (a fresh clone elsewhere on the same machine, as CI does).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function sharedDir(): string {
  const candidates = [process.env.DPO_SHARED_DIR, resolve(process.cwd(), '../shared'), '/work/shared'].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(resolve(c, 'fixtures'))) return c;
  throw new Error(`shared fixtures not found (looked in ${candidates.join(', ')}); set DPO_SHARED_DIR`);
}
