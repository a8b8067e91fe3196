// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes  little-endian u64 N = header length
//   N bytes  JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {k: v}}
//   rest     raw little-endian tensor bytes; offsets are relative to the end of the header.
// The file comes from the user (disk or the Hub), so the parser trusts nothing: every length, offset
// and shape is checked before a byte is read, and every problem is a SafetensorsError with a sentence.
// Host-side only: tensors come out and go in as Float32Array.

/** `code` (safetensors.<case>) and `params` let the page say the sentence in its language (src/ui/i18n/errors.ts). */
export class SafetensorsError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export interface TensorEntry {
  dtype: string;
  shape: number[];
  /** Byte offsets relative to the data section (i.e. to `dataOffset` in the file). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Absolute offset of the data section in the file: 8 + header length. */
  dataOffset: number;
}

/** Same limit as the reference Rust implementation (MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Size in bits of one element of every dtype the format defines. */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

function formatBytes(n: number): string {
  return `${n} bytes`;
}

/** Parse and validate the header of a safetensors file. Reads no tensor data. */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(
      `The file is not a safetensors file: it has ${formatBytes(bytes.byteLength)}, fewer than the 8 bytes of the header length.`,
      'safetensors.too-short',
      { bytes: bytes.byteLength },
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `The file is not a safetensors file: its header length (${n64}) is more than the ${formatBytes(MAX_HEADER_BYTES)} allowed.`,
      'safetensors.header-too-long',
      { length: String(n64), max: MAX_HEADER_BYTES },
    );
  }
  const n = Number(n64);
  if (n > bytes.byteLength - 8) {
    throw new SafetensorsError(
      `The file is not a safetensors file: its header length (${n}) is larger than the file (${formatBytes(bytes.byteLength)}). The file may be truncated or of another format.`,
      'safetensors.header-past-end',
      { length: n, bytes: bytes.byteLength },
    );
  }
  if (n < 2) {
    throw new SafetensorsError(`The file is not a safetensors file: its header is only ${formatBytes(n)} long.`, 'safetensors.header-tiny', { length: n });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('The file is not a safetensors file: its header is not valid UTF-8 text.', 'safetensors.not-utf8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      `The file is not a safetensors file: its header is not valid JSON (${(e as Error).message}).`,
      'safetensors.not-json',
      { detail: (e as Error).message },
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError('The file is not a safetensors file: its header is not a JSON object.', 'safetensors.not-object');
  }
  const dataOffset = 8 + n;
  const dataBytes = bytes.byteLength - dataOffset;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value);
      continue;
    }
    tensors.set(name, parseEntry(name, value, dataBytes));
  }
  // Tensors must not share bytes: sort by begin and compare neighbours.
  const sorted = [...tensors.entries()].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    const [pn, p] = sorted[i - 1];
    const [cn, c] = sorted[i];
    if (c.begin < p.end) {
      throw new SafetensorsError(
        `The safetensors file is corrupt: tensors '${pn}' (bytes ${p.begin}..${p.end}) and '${cn}' (bytes ${c.begin}..${c.end}) overlap.`,
        'safetensors.overlap',
        { first: pn, firstBegin: p.begin, firstEnd: p.end, second: cn, secondBegin: c.begin, secondEnd: c.end },
      );
    }
    // The format packs tensors back to back (the reference library refuses gaps, "InvalidOffset"):
    // a hole means the header's offsets do not describe the bytes that follow it.
    if (c.begin > p.end) {
      throw new SafetensorsError(
        `The safetensors header does not describe its data: ${c.begin - p.end} bytes between tensors '${pn}' (ends at ${p.end}) and '${cn}' (begins at ${c.begin}) belong to no tensor. The file is damaged; download or save it again.`,
        'safetensors.gap',
        { gap: c.begin - p.end, first: pn, firstEnd: p.end, second: cn, secondBegin: c.begin },
      );
    }
  }
  const last = sorted.at(-1);
  if (last && last[1].end !== dataBytes) {
    throw new SafetensorsError(
      `The safetensors header does not describe its data: the last tensor '${last[0]}' ends at byte ${last[1].end} but the data section has ${dataBytes} bytes. The file is damaged; download or save it again.`,
      'safetensors.last-end',
      { tensor: last[0], end: last[1].end, data: dataBytes },
    );
  }
  if (sorted.length && sorted[0][1].begin !== 0) {
    throw new SafetensorsError(
      `The safetensors header does not describe its data: the first tensor '${sorted[0][0]}' begins at byte ${sorted[0][1].begin} of the data, not 0. The file is damaged; download or save it again.`,
      'safetensors.first-begin',
      { tensor: sorted[0][0], begin: sorted[0][1].begin },
    );
  }
  return { tensors, metadata, dataOffset };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SafetensorsError('The safetensors header is invalid: "__metadata__" is not an object of strings.', 'safetensors.metadata');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`The safetensors header is invalid: metadata value '${k}' is not a string.`, 'safetensors.metadata-value', { key: k });
    }
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, value: unknown, dataBytes: number): TensorEntry {
  // each case keeps its English and names its code (safetensors.entry.<case>) with the numbers it shows
  const bad = (what: string, code: string, params: Record<string, string | number> = {}) =>
    new SafetensorsError(`The safetensors header is invalid: tensor '${name}' ${what}.`, `safetensors.entry.${code}`, { tensor: name, ...params });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('is not described by an object', 'not-object');
  const v = value as Record<string, unknown>;
  const dtype = v.dtype;
  if (typeof dtype !== 'string') throw bad('has no dtype', 'no-dtype');
  const bits = DTYPE_BITS[dtype];
  if (bits === undefined) throw bad(`has the unknown dtype '${dtype}'`, 'unknown-dtype', { dtype });
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw bad('has a shape that is not a list of non-negative integers', 'shape');
  }
  const offs = v.data_offsets;
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw bad('has data_offsets that are not two non-negative integers', 'offsets');
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) throw bad(`ends (${end}) before it begins (${begin})`, 'reversed', { begin, end });
  if (end > dataBytes) {
    throw bad(`lies outside the file: its data ends at byte ${end} of a data section of ${dataBytes} bytes (truncated file?)`, 'outside', { end, data: dataBytes });
  }
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw bad('has a shape whose product is too large', 'huge');
  }
  const want = (count * bits) / 8;
  if (end - begin !== want) {
    throw bad(`has ${end - begin} bytes of data, but its shape [${shape.join(', ')}] of ${dtype} needs ${want}`, 'size', { have: end - begin, shape: `[${shape.join(', ')}]`, dtype, need: want });
  }
  return { dtype, shape: [...(shape as number[])], begin, end };
}

// ---- element conversions ---------------------------------------------------------------------------

const scratch = new DataView(new ArrayBuffer(4));

let f16Table: Float32Array | null = null;
/** All 65536 half-precision values as float32 (256 KiB, built once). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32(h);
  f16Table = t;
  return t;
}

/** IEEE half bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 -> IEEE half bits, round to nearest, ties to even; overflow gives +-Inf, NaN stays NaN. */
export function f32ToF16Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  return f32BitsToF16Bits(scratch.getUint32(0, true));
}

function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is a half subnormal (or zero): value / 2^-24 = full * 2^(e-14), full = 1.mant as an integer.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m; // m == 0x400 carries into the smallest normal, as it should
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may step into the exponent, up to Inf
  return h;
}

/** float32 -> bfloat16 bits, round to nearest, ties to even; NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  scratch.setFloat32(0, x, true);
  return f32BitsToBf16Bits(scratch.getUint32(0, true));
}

function f32BitsToBf16Bits(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits -> number (exact). */
export function bf16BitsToF32(h: number): number {
  scratch.setUint32(0, (h & 0xffff) << 16, true);
  return scratch.getFloat32(0, true);
}

/** A copy of the bytes in a fresh, aligned ArrayBuffer (all host platforms we run on are little-endian). */
function alignedCopy(bytes: Uint8Array, from: number, to: number): ArrayBuffer {
  return bytes.slice(from, to).buffer as ArrayBuffer;
}

const EXACT_INT = 2 ** 24;

/**
 * Read one tensor as float32. F32/F16/BF16 are the usual parameter dtypes; F64 and the integer types
 * are converted too when every value is representable (integers up to 2^24), otherwise it throws.
 */
export function readTensor(bytes: Uint8Array, entry: TensorEntry & { name?: string }, dataOffset?: number): Float32Array {
  const off = dataOffset ?? inferDataOffset(bytes);
  const from = off + entry.begin;
  const to = off + entry.end;
  if (to > bytes.byteLength || from > to) {
    throw new SafetensorsError(`Tensor '${entry.name ?? '?'}' lies outside the file (truncated file?).`, 'safetensors.read-outside', { tensor: entry.name ?? '?' });
  }
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const name = entry.name ?? 'tensor';
  const checkInts = (out: Float32Array, src: ArrayLike<number>) => {
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v > EXACT_INT || v < -EXACT_INT) {
        throw new SafetensorsError(
          `Tensor '${name}' of dtype ${entry.dtype} holds ${v}, which float32 cannot represent exactly.`,
          'safetensors.inexact',
          { tensor: name, dtype: entry.dtype, value: v },
        );
      }
      out[i] = v;
    }
    return out;
  };
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(alignedCopy(bytes, from, to));
    case 'F16': {
      const src = new Uint16Array(alignedCopy(bytes, from, to));
      const t = halfTable();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = t[src[i]];
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(alignedCopy(bytes, from, to));
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F64':
      return Float32Array.from(new Float64Array(alignedCopy(bytes, from, to)));
    case 'I64': {
      const src = new BigInt64Array(alignedCopy(bytes, from, to));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = src[i];
        if (v > 16777216n || v < -16777216n) {
          throw new SafetensorsError(`Tensor '${name}' of dtype I64 holds ${v}, which float32 cannot represent exactly.`, 'safetensors.inexact', { tensor: name, dtype: 'I64', value: String(v) });
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32':
      return checkInts(new Float32Array(count), new Int32Array(alignedCopy(bytes, from, to)));
    case 'U32':
      return checkInts(new Float32Array(count), new Uint32Array(alignedCopy(bytes, from, to)));
    case 'I16':
      return Float32Array.from(new Int16Array(alignedCopy(bytes, from, to)));
    case 'U16':
      return Float32Array.from(new Uint16Array(alignedCopy(bytes, from, to)));
    case 'I8':
      return Float32Array.from(new Int8Array(alignedCopy(bytes, from, to)));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(bytes.subarray(from, to));
    default:
      throw new SafetensorsError(
        `Tensor '${name}' has dtype ${entry.dtype}, which cannot be read as float32 here (supported: F32, F16, BF16, F64 and integer types).`,
        'safetensors.unreadable-dtype',
        { tensor: name, dtype: entry.dtype },
      );
  }
}

function inferDataOffset(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return 8 + Number(dv.getBigUint64(0, true));
}

// ---- writing ---------------------------------------------------------------------------------------

export type WriteDtype = 'F32' | 'F16' | 'BF16';

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype?: WriteDtype;
}

const WRITE_BYTES: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Serialize tensors like the Python library does: data ordered by dtype size (largest first) then by
 * name, compact JSON header in the same order with "__metadata__" last, padded with spaces so the
 * data section starts on an 8-byte boundary.
 */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new SafetensorsError("A tensor cannot be named '__metadata__'.", 'safetensors.write-metadata-name');
    if (seen.has(t.name)) throw new SafetensorsError(`Tensor '${t.name}' is given twice.`, 'safetensors.write-twice', { tensor: t.name });
    seen.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== t.data.length) {
      throw new SafetensorsError(
        `Tensor '${t.name}' has ${t.data.length} values, but its shape [${t.shape.join(', ')}] needs ${count}.`,
        'safetensors.write-count',
        { tensor: t.name, values: t.data.length, shape: `[${t.shape.join(', ')}]`, need: count },
      );
    }
    const dt = t.dtype ?? 'F32';
    if (!(dt in WRITE_BYTES)) throw new SafetensorsError(`Tensor '${t.name}' cannot be written as ${dt}.`, 'safetensors.write-dtype', { tensor: t.name, dtype: dt });
  }
  const order = [...tensors].sort((a, b) => {
    const d = WRITE_BYTES[b.dtype ?? 'F32'] - WRITE_BYTES[a.dtype ?? 'F32'];
    if (d !== 0) return d;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of order) {
    const dtype = t.dtype ?? 'F32';
    const size = t.data.length * WRITE_BYTES[dtype];
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of order) {
    const dtype = t.dtype ?? 'F32';
    const n = t.data.length;
    if (dtype === 'F32') {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, n * 4), pos);
      pos += n * 4;
      continue;
    }
    // pos is even here (8-byte header, 4-byte tensors first), so a Uint16Array view is aligned.
    const dst = new Uint16Array(out.buffer, pos, n);
    const src = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
    const conv = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
    for (let i = 0; i < n; i++) dst[i] = conv(src[i]);
    pos += n * 2;
  }
  return out;
}

/** Convenience: parse a whole file into name -> {shape, data}. */
export function readSafetensors(bytes: Uint8Array): Map<string, { shape: number[]; dtype: string; data: Float32Array }> {
  const h = parseSafetensorsHeader(bytes);
  const out = new Map<string, { shape: number[]; dtype: string; data: Float32Array }>();
  for (const [name, e] of h.tensors) {
    out.set(name, { shape: e.shape, dtype: e.dtype, data: readTensor(bytes, { ...e, name }, h.dataOffset) });
  }
  return out;
}
