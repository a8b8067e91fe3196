// Reading preference-data files: JSONL, JSON (array or {"train": [...]}), Parquet, and gzip or bzip2 of
// any of them (a compressed file that breaks part way is refused with the records read before the break). Input is bytes or a stream of chunks; JSONL is parsed line by line as chunks arrive, so a large
// file never becomes one giant string. What comes out is raw records (anything JSON can hold) with the
// row and line number they came from; deciding whether a record is a usable pair is validate.ts's job.
import { Gunzip, gunzipSync } from 'fflate';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { Bzip2Error, bunzip2Blocks, isBzip2 } from './bzip2';
import { crc32 } from './crc32';
import { CorruptFileError, DatasetError } from './errors';

/** What a dataset can be read from: bytes, a Blob/File (browser), a web ReadableStream, or any iterable of chunks. */
export type DatasetSource =
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

export type FileKind = 'jsonl' | 'json' | 'parquet';

export interface ReadProgress {
  /** Bytes of the source consumed so far (compressed bytes for a .gz file). */
  bytesRead: number;
  /** Size of the source when known (Uint8Array, ArrayBuffer, Blob, or given in options). */
  totalBytes?: number;
  /** Records parsed so far. */
  rows: number;
}

export interface ReadOptions {
  /** File name, used only as a hint (".jsonl" vs ".json"); the content decides otherwise. */
  fileName?: string;
  /** Size of the source in bytes, for progress on streams of unknown length. */
  totalBytes?: number;
  onProgress?: (p: ReadProgress) => void;
}

/** One record of the file: `value` is the parsed JSON/Parquet row, or `error` when the line was not valid JSON. */
export interface RawRecord {
  /** 1-based index of the record in the file (counting invalid lines, not counting blank lines). */
  row: number;
  /** 1-based line number, for JSONL only. */
  line?: number;
  value?: unknown;
  error?: string;
}

export interface ReadResult {
  kind: FileKind;
  gzipped: boolean;
  /** The compression the file came in (gzipped is true for gzip only). */
  compression: 'gzip' | 'bzip2' | null;
  records: RawRecord[];
  bytesRead: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

function startsWith(b: Uint8Array, magic: number[]): boolean {
  if (b.length < magic.length) return false;
  return magic.every((m, i) => b[i] === m);
}

/** Turns any DatasetSource into an async sequence of byte chunks (at most ~1 MiB each for in-memory bytes). */
async function* chunksOf(source: DatasetSource): AsyncGenerator<Uint8Array> {
  const CHUNK = 1 << 20;
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  if (source instanceof Uint8Array) {
    for (let i = 0; i < source.length; i += CHUNK) yield source.subarray(i, Math.min(source.length, i + CHUNK));
    return;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    yield* chunksOf(source.stream() as ReadableStream<Uint8Array>);
    return;
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value && value.length) yield value;
      }
    } finally {
      reader.releaseLock();
    }
    return;
  }
  if (Symbol.asyncIterator in (source as object)) {
    for await (const c of source as AsyncIterable<Uint8Array>) if (c.length) yield c;
    return;
  }
  if (Symbol.iterator in (source as object)) {
    for (const c of source as Iterable<Uint8Array>) if (c.length) yield c;
    return;
  }
  throw new DatasetError('The dataset source is not bytes, a file or a stream of bytes.', 'dataset.bad-source');
}

function sourceSize(source: DatasetSource): number | undefined {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return source.byteLength;
  if (typeof Blob !== 'undefined' && source instanceof Blob) return source.size;
  return undefined;
}

/**
 * A decompressor found the stream broken part way; readRecords turns it into a CorruptFileError with
 * the count of records read before the break.
 */
class StreamBreak extends Error {
  constructor(
    readonly format: 'gzip' | 'bzip2',
    readonly reason: 'truncated' | 'corrupt',
    readonly detail: string,
  ) {
    super(detail);
  }
}

const plural = (n: number, one: string) => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

function breakMessage(b: { format: string; reason: 'truncated' | 'corrupt'; detail: string }, records: number): string {
  const what = b.format === 'parquet' ? 'Parquet' : b.format;
  const read = `${plural(records, 'record')} ${records === 1 ? 'was' : 'were'} read before the break`;
  return b.reason === 'truncated'
    ? `The ${what} file is cut short (${b.detail}): ${read}, so it is refused rather than trained on in part. Download or copy the whole file again.`
    : `The ${what} file is damaged (${b.detail}): ${read}, so it is refused rather than trained on in part. Download or copy the file again.`;
}

/**
 * Byte chunks after gunzip (when the first bytes are the gzip magic). `consumed()` reports how many
 * source bytes were read, for progress. A gzip stream that ends early, fails to inflate or whose
 * trailer (CRC-32 and length of the last member) does not match what came out throws StreamBreak.
 */
async function* decompressed(
  chunks: AsyncGenerator<Uint8Array>,
  onSourceBytes: (n: number) => void,
  onCompressed: (kind: 'gzip' | 'bzip2') => void,
): AsyncGenerator<Uint8Array> {
  const first = await chunks.next();
  if (first.done) return;
  let head = first.value;
  // The magic could straddle chunks only for absurdly tiny chunks; gather four bytes to be safe.
  while (head.length < 4) {
    const n = await chunks.next();
    if (n.done) break;
    const joined = new Uint8Array(head.length + n.value.length);
    joined.set(head);
    joined.set(n.value, head.length);
    head = joined;
  }
  onSourceBytes(head.length);
  if (isBzip2(head)) {
    // bzip2 blocks are decoded from the whole compressed file, then handed out block by block
    onCompressed('bzip2');
    const parts: Uint8Array[] = [head];
    let size = head.length;
    for (let n = await chunks.next(); !n.done; n = await chunks.next()) {
      onSourceBytes(n.value.length);
      parts.push(n.value);
      size += n.value.length;
    }
    const all = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    const blocks = bunzip2Blocks(all);
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = blocks.next();
      } catch (e) {
        if (e instanceof Bzip2Error) throw new StreamBreak('bzip2', e.reason, e.message);
        throw e;
      }
      if (next.done) return;
      if (next.value.length) yield next.value;
    }
  }
  if (!startsWith(head, GZIP_MAGIC)) {
    yield head;
    for (let n = await chunks.next(); !n.done; n = await chunks.next()) {
      onSourceBytes(n.value.length);
      yield n.value;
    }
    return;
  }
  onCompressed('gzip');
  const out: Uint8Array[] = [];
  // CRC-32 and length of the current member's output, checked against its 8-byte trailer at the end
  let crc = 0;
  let size = 0;
  let outTotal = 0;
  let inTotal = 0;
  const gz = new Gunzip((data) => {
    if (!data.length) return;
    crc = crc32(data, crc);
    size = (size + data.length) >>> 0;
    outTotal += data.length;
    out.push(data);
  });
  gz.onmember = () => {
    crc = 0;
    size = 0;
  };
  let tail = new Uint8Array(0); // the last 8 bytes of input
  /** Pushes a chunk; returns the break it hit (the output before it is still yielded first). */
  const push = (c: Uint8Array, final: boolean): StreamBreak | null => {
    inTotal += c.length;
    const t = new Uint8Array(Math.min(8, tail.length + c.length));
    const joined = tail.length + c.length <= 16 ? new Uint8Array([...tail, ...c]) : c;
    t.set(joined.subarray(joined.length - t.length));
    tail = t;
    try {
      gz.push(c, final);
      return null;
    } catch (e) {
      const msg = (e as Error).message;
      if (outTotal === 0 && !/unexpected EOF/i.test(msg)) throw new DatasetError(`The file looks gzipped but could not be decompressed (${msg}).`, 'dataset.not-gzip');
      return /unexpected EOF/i.test(msg)
        ? new StreamBreak('gzip', 'truncated', `its compressed data stops after ${plural(inTotal, 'byte')}`)
        : new StreamBreak('gzip', 'corrupt', `inflating it failed: ${msg}`);
    }
  };
  let pending: Uint8Array = head;
  for (let n = await chunks.next(); !n.done; n = await chunks.next()) {
    const broke = push(pending, false);
    onSourceBytes(n.value.length);
    pending = n.value;
    while (out.length) yield out.shift()!;
    if (broke) throw broke;
  }
  const broke = push(pending, true);
  while (out.length) yield out.shift()!;
  if (broke) throw broke;
  // fflate does not always throw when the input stops inside the deflate data: its inflate state says
  // whether the last member's final block was finished (then it starts a fresh state for a next member)
  const st = (gz as unknown as { s?: { f?: number; l?: unknown } }).s;
  if (st && st.f !== undefined && !(st.f && !st.l)) {
    throw new StreamBreak('gzip', 'truncated', `its compressed data stops after ${plural(inTotal, 'byte')}, inside the deflate stream`);
  }
  const le32 = (o: number) => (tail[o] | (tail[o + 1] << 8) | (tail[o + 2] << 16) | (tail[o + 3] << 24)) >>> 0;
  if (tail.length < 8 || le32(0) !== crc || le32(4) !== size) {
    // the data inflated but the trailer is not the one of what came out: damaged bytes, or a cut inside the trailer
    throw new StreamBreak(
      'gzip',
      'corrupt',
      le32(4) === size ? 'its CRC-32 checksum does not match the data' : 'its length and checksum trailer does not match the data, or is cut off',
    );
  }
}

/** Python's str.isspace()-free check used to find the first meaningful character. */
function firstNonSpace(s: string): string | undefined {
  const m = /\S/.exec(s);
  return m ? m[0] : undefined;
}

/** Rows from a parsed JSON document: an array of records, {"train": [...]}, or one object holding one array. */
function rowsOfJsonDocument(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (doc !== null && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    if (Array.isArray(o.train)) return o.train;
    if ('chosen' in o || 'rejected' in o || 'completion' in o) return [o];
    const arrays = Object.keys(o).filter((k) => Array.isArray(o[k]));
    if (arrays.length === 1) return o[arrays[0]] as unknown[];
    throw new DatasetError(
      `The JSON file is an object with keys ${Object.keys(o).slice(0, 8).join(', ') || '(none)'} ` +
        'but no "train" list of records, so no preference pairs could be found in it.',
      'dataset.json-no-train',
      { keys: Object.keys(o).slice(0, 8).join(', ') || '-' },
    );
  }
  throw new DatasetError('The JSON file holds a single value, not a list of records with "chosen" and "rejected".', 'dataset.single-value');
}

/** Parses JSONL text that is already whole (fallback path); same numbering as the streaming parser. */
function parseJsonlText(text: string, records: RawRecord[]): void {
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    pushJsonlLine(raw, line, records);
  }
}

function pushJsonlLine(raw: string, line: number, records: RawRecord[]): void {
  const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (s.trim() === '') return;
  const row = records.length + 1;
  try {
    records.push({ row, line, value: JSON.parse(s) });
  } catch (e) {
    records.push({ row, line, error: `not valid JSON on line ${line} (${(e as Error).message})` });
  }
}

/**
 * Reads every record of a preference-data file. JSONL is parsed incrementally line by line; JSON and
 * Parquet need the whole (decompressed) content, as their formats require.
 */
export async function readRecords(source: DatasetSource, opts: ReadOptions = {}): Promise<ReadResult> {
  const records: RawRecord[] = [];
  try {
    return await readInto(source, opts, records);
  } catch (e) {
    if (e instanceof StreamBreak) throw new CorruptFileError(breakMessage(e, records.length), e.format, e.reason, records.length);
    throw e;
  }
}

async function readInto(source: DatasetSource, opts: ReadOptions, records: RawRecord[]): Promise<ReadResult> {
  const totalBytes = opts.totalBytes ?? sourceSize(source);
  let bytesRead = 0;
  let gzipped = false;
  let compression: ReadResult['compression'] = null;
  const progress = () => opts.onProgress?.({ bytesRead, totalBytes, rows: records.length });
  const stream = decompressed(
    chunksOf(source),
    (n) => (bytesRead += n),
    (kind) => {
      compression = kind;
      gzipped = kind === 'gzip';
    },
  );

  const name = (opts.fileName ?? '').toLowerCase().replace(/\.(gz|bz2)$/, '');
  const first = await stream.next();
  if (first.done) throw new DatasetError('The dataset file is empty.', 'dataset.empty');

  // Parquet: needs random access to the footer, so gather the whole file.
  if (startsWith(first.value, PARQUET_MAGIC)) {
    const parts: Uint8Array[] = [first.value];
    let size = first.value.length;
    for (let n = await stream.next(); !n.done; n = await stream.next()) {
      parts.push(n.value);
      size += n.value.length;
      progress();
    }
    const buf = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    // The footer (at the end) says where every row group is: without it nothing can be read.
    const broken = (reason: 'truncated' | 'corrupt', detail: string) =>
      new CorruptFileError(breakMessage({ format: 'parquet', reason, detail }, records.length), 'parquet', reason, records.length);
    if (!startsWith(buf.subarray(buf.length - 4), PARQUET_MAGIC)) throw broken('truncated', `it ends after ${plural(buf.length, 'byte')} without its footer`);
    let meta: FileMetaData;
    try {
      meta = parquetMetadata(buf.buffer);
    } catch (e) {
      throw broken('corrupt', `its footer cannot be parsed: ${(e as Error).message}`);
    }
    // Row group by row group, so a damaged one is refused with the count of the rows before it.
    let start = 0;
    for (const [g, rg] of meta.row_groups.entries()) {
      const n = Number(rg.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({
          file: buf.buffer,
          metadata: meta,
          rowStart: start,
          rowEnd: start + n,
          compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) },
        });
      } catch (e) {
        const msg = (e as Error).message;
        const codec = /unsupported compression codec: (\w+)/.exec(msg);
        if (codec) throw new DatasetError(`The Parquet file is compressed with ${codec[1]}, which this page cannot read; save it with snappy, gzip or no compression.`, 'dataset.parquet-codec', { codec: codec[1] });
        throw broken('corrupt', `row group ${g + 1} of ${meta.row_groups.length} cannot be decoded: ${msg}`);
      }
      if (rows.length !== n) throw broken('corrupt', `row group ${g + 1} of ${meta.row_groups.length} holds ${rows.length} rows where its header says ${n}`);
      rows.forEach((value) => records.push({ row: records.length + 1, value }));
      start += n;
      progress();
    }
    return { kind: 'parquet', gzipped, compression, records, bytesRead };
  }

  // Text: JSON or JSONL. Decode incrementally; the TextDecoder drops a UTF-8 BOM.
  const decoder = new TextDecoder('utf-8');
  let text = decoder.decode(first.value, { stream: true });
  // Read until the first line is complete, to decide between JSONL and JSON.
  let done = false;
  const firstLineComplete = () => {
    const at = text.search(/\S/);
    return at >= 0 && text.indexOf('\n', at) >= 0;
  };
  while (!firstLineComplete() && !done) {
    const n = await stream.next();
    if (n.done) {
      text += decoder.decode();
      done = true;
    } else text += decoder.decode(n.value, { stream: true });
  }
  const c0 = firstNonSpace(text);
  if (c0 === undefined && done) throw new DatasetError('The dataset file is empty.', 'dataset.empty');
  if (c0 !== undefined && c0 !== '{' && c0 !== '[') {
    throw new DatasetError('The file is not JSONL, JSON or Parquet (it does not start with "{", "[" or the Parquet header).', 'dataset.not-a-dataset');
  }
  const body = text.slice(Math.max(0, text.search(/\S/)));
  const firstLine = body.slice(0, body.indexOf('\n') >= 0 ? body.indexOf('\n') : body.length).trim();
  let firstLineParses = false;
  if (c0 === '{' && firstLine.startsWith('{')) {
    try {
      JSON.parse(firstLine);
      firstLineParses = true;
    } catch {
      firstLineParses = false;
    }
  }
  const jsonl = name.endsWith('.jsonl') || name.endsWith('.ndjson') || firstLineParses;

  if (jsonl) {
    // Streaming JSONL: keep only the unfinished tail line in memory.
    let line = 0;
    let carry = text;
    const flushLines = (final: boolean) => {
      const parts = carry.split('\n');
      carry = final ? '' : parts.pop()!;
      for (const p of parts) pushJsonlLine(p, ++line, records);
    };
    flushLines(done);
    progress();
    while (!done) {
      const n = await stream.next();
      if (n.done) {
        carry += decoder.decode();
        done = true;
      } else carry += decoder.decode(n.value, { stream: true });
      flushLines(done);
      progress();
    }
    // A one-line file holding {"train": [...]} is a JSON document, not one record.
    if (records.length === 1 && records[0].value && !Array.isArray(records[0].value)) {
      const v = records[0].value as Record<string, unknown>;
      if (!('chosen' in v) && !('rejected' in v) && !('completion' in v) && Object.values(v).some(Array.isArray)) {
        const rows = rowsOfJsonDocument(v);
        records.length = 0;
        rows.forEach((value, i) => records.push({ row: i + 1, value }));
        return { kind: 'json', gzipped, compression, records, bytesRead };
      }
    }
    return { kind: 'jsonl', gzipped, compression, records, bytesRead };
  }

  // Whole JSON document.
  const parts: string[] = [text];
  while (!done) {
    const n = await stream.next();
    if (n.done) {
      parts.push(decoder.decode());
      done = true;
    } else parts.push(decoder.decode(n.value, { stream: true }));
    progress();
  }
  const whole = parts.join('');
  let doc: unknown;
  try {
    doc = JSON.parse(whole);
  } catch (e) {
    // A JSONL file whose first line is broken lands here: read it as JSONL so the report can say which lines.
    if (c0 === '{') {
      parseJsonlText(whole, records);
      if (records.some((r) => r.error === undefined)) {
        progress();
        return { kind: 'jsonl', gzipped, compression, records, bytesRead };
      }
      records.length = 0;
    }
    throw new DatasetError(`The file is neither valid JSON nor JSONL (${(e as Error).message}).`, 'dataset.not-json');
  }
  rowsOfJsonDocument(doc).forEach((value, i) => records.push({ row: i + 1, value }));
  progress();
  return { kind: 'json', gzipped, compression, records, bytesRead };
}
