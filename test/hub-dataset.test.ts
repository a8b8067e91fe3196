// Hub datasets from the dataset viewer's Parquet files, on a local Hub-like server: one file gives the
// same validation report as the same file uploaded; several files are read as one (rows numbered on);
// gated repos need the token; a wrong split or repo is a sentence; without the listing API the
// conventional refs/convert/parquet path is used.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '../e2e/hub-server.mjs';
import { loadHubDataset } from '../src/worker/hub-dataset';
import { loadPreferenceDataset } from '../src/data/index';

const std = readFileSync('test/fixtures/prefs-standard.parquet');
const conv = readFileSync('test/fixtures/prefs-conversational.parquet');
let hub: HubServer;

beforeAll(async () => {
  const files = { 'default/train/0000.parquet': std, 'default/train/0001.parquet': std, 'default/test/0000.parquet': std, 'chat/train/0000.parquet': conv };
  const parquet = { default: { train: ['default/train/0000.parquet', 'default/train/0001.parquet'], test: ['default/test/0000.parquet'] }, chat: { train: ['chat/train/0000.parquet'] } };
  hub = await startHubServer({
    'org/prefs': { type: 'dataset', files, parquet },
    'org/gated-prefs': { type: 'dataset', files, parquet, token: 'hf_ds' },
    'org/no-listing': { type: 'dataset', files, noListing: true },
  });
});
afterAll(() => hub?.close());

const ref = (repo: string, config: string, split: string, token?: string) => ({ hubUrl: hub.url, repo, revision: 'main', config, split, token });

describe('Hub datasets', () => {
  it('reads one Parquet file with the same report as an upload, with progress', async () => {
    const seen: number[] = [];
    const a = await loadHubDataset(ref('org/prefs', 'default', 'test'), (p) => seen.push(p.loaded));
    const b = await loadPreferenceDataset(std, { fileName: 'x.parquet' });
    expect(a.report).toEqual(b.report);
    expect(a.pairs).toEqual(b.pairs);
    expect(seen.at(-1)).toBe(std.length);
    const c = await loadHubDataset(ref('org/prefs', 'chat', 'train'));
    expect(c.report).toEqual((await loadPreferenceDataset(conv)).report);
  });

  it('reads a split of several files as one dataset, rows numbered across files', async () => {
    const one = await loadPreferenceDataset(std);
    const two = await loadHubDataset(ref('org/prefs', 'default', 'train'));
    expect(two.report.totalRows).toBe(2 * one.report.totalRows);
    expect(two.report.kept).toBe(2 * one.report.kept);
    expect(two.pairs.length).toBe(2 * one.pairs.length);
    expect(two.pairs[one.pairs.length].row).toBe(one.pairs[0].row + one.report.totalRows);
  });

  it('sends the token for gated datasets and says what to do without it', async () => {
    await expect(loadHubDataset(ref('org/gated-prefs', 'default', 'test'))).rejects.toThrow(/private or gated\. Paste an access token/);
    hub.log.length = 0;
    const d = await loadHubDataset(ref('org/gated-prefs', 'default', 'test', 'hf_ds'));
    expect(d.pairs.length).toBeGreaterThan(0);
    expect(hub.log.every((l) => l.auth === 'Bearer hf_ds')).toBe(true);
  });

  it('says which config/split is missing, and falls back to refs/convert/parquet without the listing API', async () => {
    await expect(loadHubDataset(ref('org/prefs', 'default', 'validation'))).rejects.toThrow(/no Parquet files for 'org\/prefs', config 'default', split 'validation'/);
    const d = await loadHubDataset(ref('org/no-listing', 'default', 'train'));
    expect(d.report).toEqual((await loadPreferenceDataset(std)).report);
    expect(hub.log.some((l) => l.path === '/datasets/org/no-listing/resolve/refs/convert/parquet/default/train/0000.parquet')).toBe(true);
  });
});
