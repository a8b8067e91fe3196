// Dataset reading, format detection, validation and splits (no GPU).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  CorruptFileError,
  DatasetError,
  extractPromptLastAssistant,
  extractPromptTrl,
  loadPreferenceDataset,
  readRecords,
  splitTrainEval,
  UnpairedDataError,
  type ConversationalPair,
  type ConversationalUnpaired,
  type StandardPair,
  type StandardUnpaired,
} from '../src/data/index';
import { run, tempDir, venvPython } from './helpers/python';

const HH = '/work/shared/data/hh-rlhf-harmless-base-test.jsonl.gz';
const enc = (s: string) => strToU8(s);
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Splits bytes into chunks of `size`, to exercise line and UTF-8 boundaries across chunks. */
function* chunked(b: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const std = [
  { prompt: 'What is 2+2?', chosen: ' 4', rejected: ' 5' },
  { prompt: 'Name a colour.', chosen: ' Blue ✓ 🎨', rejected: ' Seven' },
];

describe('HH-RLHF harmless-base test split', () => {
  it('loads all 2,312 pairs as implicit-prompt data, gzipped, with progress', async () => {
    const buf = readFileSync(HH);
    const progress: number[] = [];
    const ds = await loadPreferenceDataset(buf, { fileName: 'hh.jsonl.gz', onProgress: (p) => progress.push(p.bytesRead) });
    expect(ds.format).toBe('implicit');
    expect(ds.pairs.length).toBe(2312);
    expect(ds.report).toMatchObject({ kept: 2312, skippedCount: 0, totalRows: 2312, fileKind: 'jsonl', gzipped: true });
    expect(progress.at(-1)).toBe(buf.length);
    const p = ds.pairs[0] as StandardPair;
    expect(p.prompt.startsWith('\n\nHuman: what are some pranks with a pen')).toBe(true);
    expect(p.prompt.endsWith('\n\nAssistant:')).toBe(true);
    expect(p.chosen.startsWith(' No, sorry!')).toBe(true);
    // Every pair: prompt + completion rebuilds the original text.
    const lines = new TextDecoder().decode((await import('fflate')).gunzipSync(buf)).trim().split('\n');
    const raw = JSON.parse(lines[1234]);
    const q = ds.pairs[1234] as StandardPair;
    expect(q.prompt + q.chosen).toBe(raw.chosen);
    expect(q.prompt + q.rejected).toBe(raw.rejected);
  });

  it('reads the same pairs from a stream of small chunks', async () => {
    const buf = readFileSync(HH);
    const whole = await loadPreferenceDataset(buf);
    const streamed = await loadPreferenceDataset(chunked(new Uint8Array(buf), 4093));
    expect(streamed.pairs.length).toBe(2312);
    expect(streamed.pairs[2311]).toEqual(whole.pairs[2311]);
  });
});

describe('file kinds', () => {
  it('JSONL, JSON array, {"train": [...]} and gzipped JSON give the same standard pairs', async () => {
    const sources: [string, Uint8Array][] = [
      ['a.jsonl', enc(jsonl(std))],
      ['a.json', enc(JSON.stringify(std, null, 2))],
      ['b.json', enc(JSON.stringify({ train: std, test: [] }, null, 2))],
      ['c.json', enc(JSON.stringify({ train: std }))], // one line
      ['d.json.gz', gzipSync(enc(JSON.stringify(std)))],
      ['e', gzipSync(enc(jsonl(std)))], // no name: content decides
    ];
    for (const [name, bytes] of sources) {
      const ds = await loadPreferenceDataset(bytes, { fileName: name });
      expect(ds.format, name).toBe('standard');
      expect(ds.pairs.map((p) => [p.prompt, p.chosen, p.rejected]), name).toEqual(std.map((r) => [r.prompt, r.chosen, r.rejected]));
    }
    const kinds = await Promise.all(sources.map(([n, b]) => readRecords(b, { fileName: n }).then((r) => r.kind)));
    expect(kinds).toEqual(['jsonl', 'json', 'json', 'json', 'json', 'jsonl']);
  });

  it('multi-byte UTF-8 split across chunk boundaries decodes intact', async () => {
    const bytes = enc(jsonl(std));
    for (const size of [1, 3, 7]) {
      const ds = await loadPreferenceDataset(chunked(bytes, size));
      expect((ds.pairs[1] as StandardPair).chosen).toBe(' Blue ✓ 🎨');
    }
  });

  it('Parquet (snappy, standard) and Parquet (gzip, conversational)', async () => {
    const a = await loadPreferenceDataset(readFileSync('test/fixtures/prefs-standard.parquet'));
    expect(a.report.fileKind).toBe('parquet');
    expect(a.format).toBe('standard');
    // third row has chosen === rejected
    expect(a.pairs.map((p) => p.chosen)).toEqual([' 4', ' Blue']);
    expect(a.report.counts.identical).toBe(1);
    const b = await loadPreferenceDataset(readFileSync('test/fixtures/prefs-conversational.parquet'));
    expect(b.format).toBe('conversational');
    const p = b.pairs[1] as ConversationalPair;
    expect(p.prompt).toEqual([{ role: 'user', content: 'Where is the sun?' }]);
    expect(p.chosen).toEqual([{ role: 'assistant', content: 'In the sky.' }]);
    expect(p.rejected).toEqual([{ role: 'assistant', content: 'In the sea.' }]);
  });

  it('a Blob is read through its stream', async () => {
    const ds = await loadPreferenceDataset(new Blob([enc(jsonl(std))]));
    expect(ds.pairs.length).toBe(2);
  });
});

describe('formats', () => {
  const u = (c: string) => ({ role: 'user', content: c });
  const a = (c: string) => ({ role: 'assistant', content: c });

  it('conversational with explicit prompt', async () => {
    const ds = await loadPreferenceDataset(enc(jsonl([{ prompt: [u('Hi')], chosen: [a('Hello!')], rejected: [a('Go away.')] }])));
    expect(ds.format).toBe('conversational');
    expect(ds.pairs[0]).toMatchObject({ kind: 'conversational', prompt: [u('Hi')], chosen: [a('Hello!')], rejected: [a('Go away.')] });
  });

  it('conversational with the prompt inside chosen/rejected (TRL extract_prompt on turns)', async () => {
    const ds = await loadPreferenceDataset(
      enc(jsonl([{ chosen: [u('Q1'), a('A1'), u('Q2'), a('good')], rejected: [u('Q1'), a('A1'), u('Q2'), a('bad')] }])),
    );
    expect(ds.format).toBe('implicit-conversational');
    expect(ds.pairs[0]).toMatchObject({ prompt: [u('Q1'), a('A1'), u('Q2')], chosen: [a('good')], rejected: [a('bad')] });
  });

  it('a text prompt with conversational chosen is treated as implicit (TRL maybe_extract_prompt)', async () => {
    const ds = await loadPreferenceDataset(enc(jsonl([{ prompt: 'Q', chosen: [u('Q'), a('yes')], rejected: [u('Q'), a('no')] }])));
    expect(ds.format).toBe('implicit-conversational');
    expect((ds.pairs[0] as ConversationalPair).prompt).toEqual([u('Q')]);
  });

  it('TRL extract_prompt string quirks: trailing space, shared first words, prefix, idx 0', () => {
    expect(extractPromptTrl('\n\nHuman: hi\n\nAssistant: Yes sure', '\n\nHuman: hi\n\nAssistant: No')).toEqual({
      prompt: '\n\nHuman: hi\n\nAssistant:',
      chosen: ' Yes sure',
      rejected: ' No',
    });
    // Shared first word goes into the prompt (TRL does this).
    expect(extractPromptTrl('A: I am fine', 'A: I said no')).toEqual({ prompt: 'A: I', chosen: ' am fine', rejected: ' said no' });
    // One a prefix of the other: the loop ends at min_len - 1.
    expect(extractPromptTrl('abc', 'abcd')).toEqual({ prompt: 'ab', chosen: 'c', rejected: 'cd' });
    // Mismatch at 0 and chosen ending in a space: idx becomes -1 (negative Python slice).
    expect(extractPromptTrl('xy ', 'zw')).toEqual({ prompt: 'xy', chosen: ' ', rejected: 'w' });
    expect(extractPromptTrl('xy', 'zw')).toEqual({ prompt: '', chosen: 'xy', rejected: 'zw' });
    // Code points, not UTF-16 units: 😀 (U+1F600) and 😁 (U+1F601) share a high surrogate.
    expect(extractPromptTrl('ok 😀', 'ok 😁')).toEqual({ prompt: 'ok', chosen: ' 😀', rejected: ' 😁' });
    // Where TRL would raise on an empty side.
    expect(extractPromptTrl('', 'x')).toBeUndefined();
  });

  it('the "last-assistant" option keeps shared answer words in the completions', async () => {
    const row = { chosen: '\n\nHuman: hi\n\nAssistant: I am fine', rejected: '\n\nHuman: hi\n\nAssistant: I said no' };
    expect(extractPromptLastAssistant(row.chosen, row.rejected)).toEqual({
      prompt: '\n\nHuman: hi\n\nAssistant:',
      chosen: ' I am fine',
      rejected: ' I said no',
    });
    const trl = await loadPreferenceDataset(enc(jsonl([row])));
    expect((trl.pairs[0] as StandardPair).prompt).toBe('\n\nHuman: hi\n\nAssistant: I');
    const ours = await loadPreferenceDataset(enc(jsonl([row])), { implicitPrompt: 'last-assistant' });
    expect((ours.pairs[0] as StandardPair).prompt).toBe('\n\nHuman: hi\n\nAssistant:');
  });
});

describe('validation report', () => {
  it('skips bad rows with reason and line number and keeps the rest', async () => {
    const text = [
      JSON.stringify(std[0]), // line 1 ok
      '{"prompt": "p", "chosen": "a", ', // line 2 broken JSON
      '', // line 3 blank: ignored
      JSON.stringify({ prompt: 'p', chosen: 'a' }), // line 4 missing rejected
      JSON.stringify({ prompt: 'p', chosen: '  ', rejected: 'b' }), // line 5 empty chosen
      JSON.stringify({ prompt: 'p', chosen: 'same', rejected: 'same' }), // line 6 identical
      JSON.stringify({ prompt: 'p', chosen: 3, rejected: 'b' }), // line 7 wrong type
      '[1, 2]', // line 8 not an object
      JSON.stringify(std[1]), // line 9 ok
    ].join('\r\n');
    const ds = await loadPreferenceDataset(enc(text), { fileName: 'x.jsonl' });
    expect(ds.pairs.map((p) => p.line)).toEqual([1, 9]);
    expect(ds.report.kept).toBe(2);
    expect(ds.report.totalRows).toBe(8);
    expect(ds.report.skippedCount).toBe(6);
    expect(ds.report.skipped.map((s) => [s.line, s.reason])).toEqual([
      [2, 'invalid-json'],
      [4, 'missing-column'],
      [5, 'empty'],
      [6, 'identical'],
      [7, 'wrong-type'],
      [8, 'not-an-object'],
    ]);
    expect(ds.report.skipped[0].message).toMatch(/^line 2: not valid JSON/);
    expect(ds.report.skipped[1].message).toBe('line 4: missing "rejected"');
    expect(ds.report.counts).toMatchObject({ 'invalid-json': 1, 'missing-column': 1, empty: 1, identical: 1, 'wrong-type': 1, 'not-an-object': 1 });
  });

  it('a JSONL whose first line is broken is still read line by line', async () => {
    const ds = await loadPreferenceDataset(enc('{"chosen": \n' + jsonl(std)));
    expect(ds.pairs.length).toBe(2);
    expect(ds.report.skipped[0]).toMatchObject({ line: 1, reason: 'invalid-json' });
  });

  it('conversational rows with malformed messages are skipped as wrong-type', async () => {
    const good = { prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] };
    const bad = { ...good, chosen: [{ role: 'assistant' }] };
    const bad2 = { ...good, rejected: 'text' };
    const ds = await loadPreferenceDataset(enc(jsonl([good, bad, bad2])));
    expect(ds.pairs.length).toBe(1);
    expect(ds.report.counts['wrong-type']).toBe(2);
  });

  it('a file that is not a preference dataset gets one DatasetError sentence', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [enc(jsonl([{ text: 'hello', label: 1 }])), /not a preference dataset.*"text", "label"/],
      [enc(''), /empty/],
      [enc('   \n  '), /empty/],
      [enc('hello world\n'), /not JSONL, JSON or Parquet/],
      [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), /not JSONL, JSON or Parquet/],
      [enc('{"a": 1, "b": 2, "c": [1], "d": [2]}'), /no "train" list/],
      [enc('[1, 2, 3]'), /not objects with "chosen" and "rejected"/],
      [enc('{broken\n{also broken\n'), /neither valid JSON nor JSONL/],
      [enc(jsonl([{ chosen: 'same', rejected: 'same' }])), /No usable preference pair.*identical/],
      [new Uint8Array([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), /gzipped but could not be decompressed/],
    ];
    for (const [bytes, re] of cases) {
      const err = await loadPreferenceDataset(bytes).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, String(re)).toBeInstanceOf(DatasetError);
      expect((err as Error).message, String(re)).toMatch(re);
    }
  });
});

describe('train/eval split', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  it('is seeded, disjoint, complete and keeps file order', () => {
    const a = splitTrainEval(items, { evalFraction: 0.2, seed: 7 });
    const b = splitTrainEval(items, { evalFraction: 0.2, seed: 7 });
    const c = splitTrainEval(items, { evalFraction: 0.2, seed: 8 });
    expect(a).toEqual(b);
    expect(a.eval).not.toEqual(c.eval);
    expect(a.eval.length).toBe(10);
    expect([...a.train, ...a.eval].sort((x, y) => x - y)).toEqual(items);
    expect(a.train).toEqual([...a.train].sort((x, y) => x - y));
    expect(splitTrainEval(items, { evalSize: 13, seed: 1 }).eval.length).toBe(13);
    expect(splitTrainEval(items.slice(0, 5), { evalFraction: 0.01 }).eval.length).toBe(1);
  });
  it('refuses impossible sizes with a DatasetError', () => {
    expect(() => splitTrainEval(items, { evalSize: 50 })).toThrow(DatasetError);
    expect(() => splitTrainEval(items, { evalFraction: 1 })).toThrow(/below 1/);
  });
});

// Issue 13 item 4: real compressed and Parquet files, cut short or with damaged bytes, are refused with
// the number of records read before the break (a gzip cut in half used to train on its first half as
// if it were the whole file). One Python process writes the files (HH-RLHF pairs: gzip, bzip2 at block
// size 100k so there are several blocks, Parquet by pyarrow in row groups of 100) and says how many
// whole lines zlib / libbzip2 give back from the cut files.
describe('cut and damaged files', () => {
  interface Made {
    dir: string;
    total: number;
    gzHalfLines: number;
    bz2HalfLines: number;
    rowGroups: { rows: number; offset: number }[];
    unpaired: { rows: number; desirable: number; gzHalfLines: number; firstPrompt: string; lastCompletion: string };
  }
  let made: Made | null = null;
  const make = async (): Promise<Made> => {
    if (made) return made;
    const dir = tempDir('cut-files');
    const py = `
import bz2, gzip, json, sys, zlib
import pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
rows = [json.loads(l) for l, _ in zip(gzip.open(sys.argv[2], "rt", encoding="utf8"), range(800))]
text = "".join(json.dumps(r) + "\\n" for r in rows).encode()
gz = gzip.compress(text); bz = bz2.compress(text, compresslevel=1)
open(d + "/hh.jsonl.gz", "wb").write(gz); open(d + "/hh.jsonl.bz2", "wb").write(bz)
gz_half = zlib.decompressobj(31).decompress(gz[: len(gz) // 2])
bz_half = bz2.BZ2Decompressor().decompress(bz[: len(bz) // 2])
pq.write_table(pa.table({"chosen": [r["chosen"] for r in rows], "rejected": [r["rejected"] for r in rows]}), d + "/hh.parquet", row_group_size=100)
md = pq.ParquetFile(d + "/hh.parquet").metadata
groups = [{"rows": md.row_group(i).num_rows, "offset": md.row_group(i).column(0).data_page_offset} for i in range(md.num_row_groups)]
# TRL's unpaired format, made by TRL itself (extract_prompt + unpair_preference_dataset: 60 chosen, then 60 rejected)
from datasets import Dataset
from trl.data_utils import extract_prompt, unpair_preference_dataset
un = unpair_preference_dataset(Dataset.from_list(rows[:60]).map(extract_prompt))
un.to_parquet(d + "/unpaired.parquet")
urows = un.to_list()
some = urows[:45] + urows[60:70]  # 45 desirable, 10 undesirable
json.dump(some, open(d + "/unpaired.json", "w"))
ut = "".join(json.dumps(r) + "\\n" for r in urows).encode()
ugz = gzip.compress(ut)
open(d + "/unpaired.jsonl.gz", "wb").write(ugz)
ugz_half = zlib.decompressobj(31).decompress(ugz[: len(ugz) // 2])
conv = [{"prompt": [{"role": "user", "content": r["prompt"].strip()}], "completion": [{"role": "assistant", "content": r["completion"].strip()}], "label": r["label"]} for r in urows[:5] + urows[60:63]]
pq.write_table(pa.Table.from_pylist(conv), d + "/unpaired-conversational.parquet")
udes = sum(r["label"] for r in urows)
print(json.dumps({"total": len(rows), "gzHalfLines": gz_half.count(b"\\n"), "bz2HalfLines": bz_half.count(b"\\n"), "rowGroups": groups,
                  "unpaired": {"rows": len(urows), "desirable": udes, "gzHalfLines": ugz_half.count(b"\\n"), "firstPrompt": urows[0]["prompt"], "lastCompletion": urows[-1]["completion"]}}))
`;
    const r = await run(venvPython(), ['-c', py, dir, HH]);
    made = { dir, ...JSON.parse(r.stdout.trim().split('\n').pop()!) };
    return made!;
  };
  const refusal = async (bytes: Uint8Array, name: string): Promise<CorruptFileError> => {
    const e = await loadPreferenceDataset(bytes, { fileName: name }).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e, name).toBeInstanceOf(CorruptFileError);
    const c = e as CorruptFileError;
    expect(c.message).toContain(`${c.recordsRead.toLocaleString('en-US')} record${c.recordsRead === 1 ? ' was' : 's were'} read before the break, so it is refused rather than trained on in part.`);
    console.log(`${name}: ${c.message}`);
    return c;
  };
  const flip = (b: Uint8Array, at: number, n = 16) => {
    const out = b.slice();
    for (let i = 0; i < n; i++) out[at + i] ^= 0xa5;
    return out;
  };

  it('gzip: whole loads; cut in half, cut inside the trailer, or with flipped bytes is refused with the count', async () => {
    const m = await make();
    const gz = new Uint8Array(readFileSync(join(m.dir, 'hh.jsonl.gz')));
    expect((await loadPreferenceDataset(gz, { fileName: 'hh.jsonl.gz' })).pairs.length).toBe(m.total);
    const half = await refusal(gz.subarray(0, gz.length >> 1), 'hh.jsonl.gz cut in half');
    expect(half.format).toBe('gzip');
    expect(half.reason).toBe('truncated');
    // the lines inflated before the cut: zlib's count, less at most the bytes fflate holds back (< 1 window)
    expect(half.recordsRead).toBeGreaterThan(m.gzHalfLines - 40);
    expect(half.recordsRead).toBeLessThanOrEqual(m.gzHalfLines);
    // streamed in small chunks: the same refusal
    const streamed = await loadPreferenceDataset(chunked(gz.subarray(0, gz.length >> 1), 4093)).then(
      () => null,
      (x: unknown) => x as CorruptFileError,
    );
    expect(streamed).toBeInstanceOf(CorruptFileError);
    expect(streamed!.recordsRead).toBeLessThanOrEqual(m.gzHalfLines);
    // the deflate data is whole but the CRC/length trailer is cut off: every record was read, still refused
    const trailer = await refusal(gz.subarray(0, gz.length - 3), 'hh.jsonl.gz without its last 3 bytes');
    expect(trailer.reason).toBe('corrupt');
    expect(trailer.recordsRead).toBe(m.total);
    const flipped = await refusal(flip(gz, Math.floor(gz.length * 0.6)), 'hh.jsonl.gz with 16 flipped bytes');
    expect(flipped.reason).toBe('corrupt');
    expect(flipped.recordsRead).toBeLessThan(m.total + 1);
  });

  it('gzip of several members (concatenated files) loads whole; cut inside the second member it is refused', async () => {
    const rows = (a: number, b: number) => jsonl(Array.from({ length: b - a }, (_, i) => ({ prompt: `p${a + i}`, chosen: ` yes ${a + i}`, rejected: ` no ${a + i}` })));
    const g1 = gzipSync(enc(rows(0, 3000)));
    const g2 = gzipSync(enc(rows(3000, 5000)));
    const multi = new Uint8Array(g1.length + g2.length);
    multi.set(g1);
    multi.set(g2, g1.length);
    expect((await loadPreferenceDataset(multi)).pairs.length).toBe(5000);
    expect((await loadPreferenceDataset(chunked(multi, 777))).pairs.length).toBe(5000);
    const cut = await refusal(multi.subarray(0, g1.length + (g2.length >> 1)), 'two-member gzip cut inside the second');
    expect(cut.reason).toBe('truncated');
    expect(cut.recordsRead).toBeGreaterThanOrEqual(3000);
    expect(cut.recordsRead).toBeLessThan(5000);
  });

  it('bzip2: whole loads (equal to the JSONL); cut in half or with flipped bytes is refused with the count of whole blocks', async () => {
    const m = await make();
    const bz = new Uint8Array(readFileSync(join(m.dir, 'hh.jsonl.bz2')));
    const whole = await loadPreferenceDataset(bz, { fileName: 'hh.jsonl.bz2' });
    const fromGz = await loadPreferenceDataset(new Uint8Array(readFileSync(join(m.dir, 'hh.jsonl.gz'))));
    expect(whole.pairs.length).toBe(m.total);
    expect(whole.pairs).toEqual(fromGz.pairs);
    const half = await refusal(bz.subarray(0, bz.length >> 1), 'hh.jsonl.bz2 cut in half');
    expect(half.format).toBe('bzip2');
    expect(half.reason).toBe('truncated');
    expect(m.bz2HalfLines).toBeGreaterThan(0);
    expect(half.recordsRead).toBe(m.bz2HalfLines); // libbzip2 gives back the same whole blocks
    const flipped = await refusal(flip(bz, Math.floor(bz.length * 0.7)), 'hh.jsonl.bz2 with 16 flipped bytes');
    expect(flipped.reason).toBe('corrupt');
    expect(flipped.recordsRead).toBeLessThan(m.total);
  });

  it('Parquet: cut short is refused (no footer: 0 records); a damaged row group is refused with the rows before it', async () => {
    const m = await make();
    const pqBytes = new Uint8Array(readFileSync(join(m.dir, 'hh.parquet')));
    expect((await loadPreferenceDataset(pqBytes, { fileName: 'hh.parquet' })).pairs.length).toBe(m.total);
    const cut = await refusal(pqBytes.subarray(0, pqBytes.length >> 1), 'hh.parquet cut in half');
    expect(cut.format).toBe('parquet');
    expect(cut.reason).toBe('truncated');
    expect(cut.recordsRead).toBe(0);
    const g = m.rowGroups[3];
    const bad = await refusal(flip(pqBytes, g.offset), 'hh.parquet with row group 4 damaged');
    expect(bad.reason).toBe('corrupt');
    expect(bad.recordsRead).toBe(m.rowGroups.slice(0, 3).reduce((s, x) => s + x.rows, 0));
    expect(bad.message).toMatch(/row group 4 of 8 cannot be decoded/);
  });

  // TRL's unpaired format (KTOTrainer's own): files written by TRL's unpair_preference_dataset and pyarrow
  const unpaired = (b: Uint8Array, name: string) => loadPreferenceDataset(b, { fileName: name, allowUnpaired: true });
  it("unpaired (TRL's unpair_preference_dataset): Parquet, JSON and gzipped JSONL give the examples and their class counts", async () => {
    const m = await make();
    const u = m.unpaired;
    const pqDs = await unpaired(new Uint8Array(readFileSync(join(m.dir, 'unpaired.parquet'))), 'unpaired.parquet');
    expect(pqDs.format).toBe('unpaired');
    expect(pqDs.pairs).toEqual([]);
    expect(pqDs.report).toMatchObject({ format: 'unpaired', fileKind: 'parquet', totalRows: u.rows, kept: u.rows, skippedCount: 0, labels: { desirable: u.desirable, undesirable: u.rows - u.desirable } });
    expect(u.desirable).toBe(60);
    const first = pqDs.unpaired![0] as StandardUnpaired;
    expect(first).toMatchObject({ kind: 'standard', row: 1, prompt: u.firstPrompt, label: true });
    expect((pqDs.unpaired!.at(-1) as StandardUnpaired).completion).toBe(u.lastCompletion);
    expect(pqDs.unpaired!.at(-1)!.label).toBe(false);
    const gz = await unpaired(new Uint8Array(readFileSync(join(m.dir, 'unpaired.jsonl.gz'))), 'unpaired.jsonl.gz');
    expect(gz.report).toMatchObject({ fileKind: 'jsonl', gzipped: true, kept: u.rows });
    expect(gz.unpaired!.map(({ line: _l, ...e }) => e)).toEqual(pqDs.unpaired);
    const js = await unpaired(new Uint8Array(readFileSync(join(m.dir, 'unpaired.json'))), 'unpaired.json');
    expect(js.report).toMatchObject({ fileKind: 'json', kept: 55, labels: { desirable: 45, undesirable: 10 } });
    // the same file for DPO (no allowUnpaired): the typed error that says only KTO trains on it, and what to do
    const e = await loadPreferenceDataset(new Uint8Array(readFileSync(join(m.dir, 'unpaired.parquet')))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnpairedDataError);
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as Error).message).toMatch(/unpaired format \(prompt, completion, label\), which only KTO trains on: DPO, CPO and ORPO need pairs \(prompt, chosen, rejected\)\. Choose the KTO trainer \(--trainer kto\)/);
    expect(new UnpairedDataError('orpo').message).toMatch(/ORPO needs pairs/);
  });

  it('unpaired conversational Parquet (lists of {role, content})', async () => {
    const m = await make();
    const ds = await unpaired(new Uint8Array(readFileSync(join(m.dir, 'unpaired-conversational.parquet'))), 'c.parquet');
    expect(ds.format).toBe('unpaired-conversational');
    expect(ds.report).toMatchObject({ kept: 8, labels: { desirable: 5, undesirable: 3 } });
    const e = ds.unpaired![7] as ConversationalUnpaired;
    expect(e.kind).toBe('conversational');
    expect(e.label).toBe(false);
    expect(e.prompt[0].role).toBe('user');
    expect(e.completion).toEqual([{ role: 'assistant', content: expect.any(String) }]);
  });

  it('unpaired gzipped JSONL cut in half is refused with the count of records read', async () => {
    const m = await make();
    const gz = new Uint8Array(readFileSync(join(m.dir, 'unpaired.jsonl.gz')));
    const e = (await unpaired(gz.subarray(0, gz.length >> 1), 'unpaired.jsonl.gz').then(
      () => null,
      (x: unknown) => x,
    )) as CorruptFileError;
    expect(e).toBeInstanceOf(CorruptFileError);
    expect(e.reason).toBe('truncated');
    expect(e.recordsRead).toBeGreaterThan(m.unpaired.gzHalfLines - 40);
    expect(e.recordsRead).toBeLessThanOrEqual(m.unpaired.gzHalfLines);
    console.log(`unpaired.jsonl.gz cut in half: ${e.message}`);
  });

  it('unpaired rows that do not fit are skipped, each with its reason and line', async () => {
    const ok = (i: number, label: boolean) => ({ prompt: `Q${i}?`, completion: ` A${i}.`, label });
    const lines = [
      JSON.stringify(ok(1, true)),
      JSON.stringify({ prompt: 'Q2?', completion: ' A2.', label: 1 }),
      JSON.stringify({ prompt: 'Q3?', completion: ' A3.', label: 'yes' }),
      JSON.stringify({ prompt: 'Q4?', label: false }),
      JSON.stringify({ completion: ' A5.', label: true }),
      JSON.stringify({ prompt: 'Q6?', completion: '   ', label: false }),
      JSON.stringify({ prompt: 7, completion: ' A7.', label: true }),
      JSON.stringify({ prompt: 'Q8?', completion: [{ role: 'assistant', content: 'x' }], label: true }),
      '{"prompt": "Q9?", "completion": " A9.", "label": tru',
      '[1, 2]',
      JSON.stringify(ok(11, false)),
      JSON.stringify(ok(12, false)),
    ];
    const file = join(tempDir('unpaired-bad'), 'bad.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const ds = await unpaired(new Uint8Array(readFileSync(file)), 'bad.jsonl');
    expect(ds.format).toBe('unpaired');
    expect(ds.unpaired!.map((e) => e.line)).toEqual([1, 11, 12]);
    expect(ds.report.labels).toEqual({ desirable: 1, undesirable: 2 });
    expect(ds.report).toMatchObject({ totalRows: 12, kept: 3, skippedCount: 9 });
    expect(ds.report.counts).toMatchObject({ 'bad-label': 2, 'missing-column': 2, empty: 1, 'wrong-type': 2, 'invalid-json': 1, 'not-an-object': 1 });
    const msg = Object.fromEntries(ds.report.skipped.map((s) => [s.line, `${s.reason}: ${s.message}`]));
    expect(msg[2]).toBe('bad-label: line 2: "label" is number 1, but it must be true (desirable) or false (undesirable)');
    expect(msg[3]).toMatch(/^bad-label: line 3: "label" is the text "yes"/);
    expect(msg[4]).toBe('missing-column: line 4: missing "completion"');
    expect(msg[5]).toBe('missing-column: line 5: missing "prompt"');
    expect(msg[6]).toBe('empty: line 6: "completion" is empty');
    expect(msg[7]).toBe('wrong-type: line 7: "prompt" is number, but this dataset holds text in "prompt"');
    expect(msg[8]).toBe('wrong-type: line 8: "completion" is a list, but this dataset holds text in "completion"');
    expect(msg[9]).toMatch(/^invalid-json: line 9: not valid JSON/);
    // nothing usable: one sentence
    writeFileSync(file, `${lines.slice(1, 4).join('\n')}\n`);
    await expect(unpaired(new Uint8Array(readFileSync(file)), 'bad.jsonl')).rejects.toThrow(/No usable example in the file: all 3 records were skipped \(most often: line 1: "label" is number 1/);
  });
});
