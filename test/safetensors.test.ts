import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  parseSafetensorsHeader,
  readSafetensors,
  readTensor,
  SafetensorsError,
  writeSafetensors,
} from '../src/model/safetensors';

/** A file from a header object (serialized as given) and raw data bytes. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function expectStError(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    parseSafetensorsHeader(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a SafetensorsError matching ${pattern}`).toBeInstanceOf(SafetensorsError);
  expect((err as Error).name).toBe('SafetensorsError');
  expect((err as Error).message).toMatch(pattern);
}

function roundTrip(values: number[], dtype: 'F32' | 'F16' | 'BF16'): Float32Array {
  const bytes = writeSafetensors([{ name: 'x', shape: [values.length], data: Float32Array.from(values), dtype }]);
  const h = parseSafetensorsHeader(bytes);
  const e = h.tensors.get('x')!;
  expect(e.dtype).toBe(dtype);
  expect(e.end - e.begin).toBe(values.length * (dtype === 'F32' ? 4 : 2));
  return readTensor(bytes, e, h.dataOffset);
}

describe('safetensors round trips', () => {
  it('F32 is bit-exact, including -0, Inf, subnormals', () => {
    const v = [1, -2.5, 65504, 1e-8, 3.14159, -0, Infinity, -Infinity, 1e-40, 123456.789];
    const out = roundTrip(v, 'F32');
    expect(Array.from(out)).toEqual(v.map(Math.fround));
    expect(Object.is(out[5], -0)).toBe(true);
  });

  it('F16: hand-picked values round to nearest even', () => {
    // Expected values cross-checked with numpy's float32 -> float16 cast.
    const out = roundTrip([1.0, -2.5, 65504, 1e-8, 1e-5, 65520, 3.14159, -0, 6.1e-5, 65519], 'F16');
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-2.5);
    expect(out[2]).toBe(65504); // largest finite half
    expect(out[3]).toBe(0); // below half the smallest subnormal (2^-25)
    expect(out[4]).toBe(1.0013580322265625e-5); // subnormal 168 * 2^-24
    expect(out[5]).toBe(Infinity); // halfway between 65504 and 65536: ties to even = Inf
    expect(out[6]).toBe(3.140625);
    expect(Object.is(out[7], -0)).toBe(true);
    expect(out[8]).toBe(6.097555160522461e-5); // largest subnormal 0x3ff
    expect(out[9]).toBe(65504);
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2.5)).toBe(0xc100);
    expect(f32ToF16Bits(1e-5)).toBe(0xa8);
    expect(f32ToF16Bits(3.14159)).toBe(0x4248);
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('F16: every half survives a round trip and every midpoint rounds to even', () => {
    for (let h = 0; h < 0x7c00; h++) {
      // positive finite halves; the negative ones differ only in the sign bit
      const x = f16BitsToF32(h);
      if (f32ToF16Bits(x) !== h) throw new Error(`half 0x${h.toString(16)} (${x}) did not round-trip`);
      if (f32ToF16Bits(-x) !== (h | 0x8000)) throw new Error(`half -0x${h.toString(16)} did not round-trip`);
      if (h < 0x7bff) {
        const mid = (x + f16BitsToF32(h + 1)) / 2; // exactly representable in f32
        const even = h & 1 ? h + 1 : h;
        if (f32ToF16Bits(mid) !== even) throw new Error(`midpoint above 0x${h.toString(16)} rounded wrong`);
        // just above / below the midpoint go up / down
        const up = Math.fround(mid + Math.abs(mid) * 2 ** -20);
        if (f32ToF16Bits(up) !== h + 1) throw new Error(`just above midpoint 0x${h.toString(16)} rounded wrong`);
      }
    }
  });

  it('BF16: hand-picked values and midpoints', () => {
    const out = roundTrip([1.0, -2.5, 3.14159, 65504, 1e-8, -0], 'BF16');
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(-2.5);
    expect(out[2]).toBe(3.140625); // 0x4049
    expect(out[3]).toBe(65536); // 0x4780
    expect(out[4]).toBe(1.0011717677116394e-8); // 0x322c
    expect(Object.is(out[5], -0)).toBe(true);
    expect(f32ToBf16Bits(3.14159)).toBe(0x4049);
    // 1 + 2^-8 is halfway between 1 (0x3f80, even) and 1+2^-7 (0x3f81): ties to even -> 0x3f80
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    // 1 + 3*2^-8 is halfway between 0x3f81 (odd) and 0x3f82 (even) -> 0x3f82
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(bf16BitsToF32(0x3f82)).toBe(1 + 2 ** -6);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
    expect(f32ToBf16Bits(3.4e38)).toBe(0x7f80); // rounds past the largest bf16 to Inf
  });

  it('writes an 8-byte aligned header with sorted names and metadata, like the Python library', () => {
    const bytes = writeSafetensors(
      [
        { name: 'zeta', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { name: 'alpha', shape: [3], data: new Float32Array([7, 8, 9]), dtype: 'BF16' },
        { name: 'beta', shape: [1], data: new Float32Array([10]) },
        { name: 'empty', shape: [0, 5], data: new Float32Array(0) },
      ],
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(text.replace(/ +$/, ''));
    const keys = Object.keys(JSON.parse(text));
    // 4-byte dtypes first (sorted), then 2-byte ones, metadata last
    expect(keys).toEqual(['beta', 'empty', 'zeta', 'alpha', '__metadata__']);
    const all = readSafetensors(bytes);
    expect(Array.from(all.get('zeta')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(all.get('zeta')!.shape).toEqual([2, 3]);
    expect(Array.from(all.get('alpha')!.data)).toEqual([7, 8, 9]);
    expect(all.get('empty')!.data.length).toBe(0);
    expect(parseSafetensorsHeader(bytes).metadata).toEqual({ format: 'pt' });
  });

  it('reproduces a file written by the Python safetensors library byte for byte', () => {
    const orig = new Uint8Array(readFileSync('/work/shared/fixtures/llama-tiny/policy/model.safetensors'));
    const t = readSafetensors(orig);
    expect(t.size).toBe(21); // embed, 2 x 9 per layer, norm, lm_head
    const again = writeSafetensors(
      [...t].map(([name, v]) => ({ name, shape: v.shape, data: v.data })),
      parseSafetensorsHeader(orig).metadata,
    );
    expect(again.length).toBe(orig.length);
    expect(Buffer.from(again).equals(Buffer.from(orig))).toBe(true);
  });

  it('reads a tensor from a view that starts at an odd byte offset', () => {
    const bytes = writeSafetensors([{ name: 'a', shape: [3], data: new Float32Array([1.5, -2, 3]) }]);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const view = big.subarray(3);
    const h = parseSafetensorsHeader(view);
    expect(Array.from(readTensor(view, h.tensors.get('a')!, h.dataOffset))).toEqual([1.5, -2, 3]);
    expect(Array.from(readTensor(view, h.tensors.get('a')!))).toEqual([1.5, -2, 3]);
  });

  it('converts F64 and integer dtypes, refuses others by name', () => {
    const f64 = new Float64Array([0.1, -7]);
    const i64 = new BigInt64Array([5n, -3n]);
    const i32 = new Int32Array([1 << 20, -9]);
    const big = new BigInt64Array([1n << 40n]);
    const data = new Uint8Array(16 + 16 + 8 + 8 + 2);
    data.set(new Uint8Array(f64.buffer), 0);
    data.set(new Uint8Array(i64.buffer), 16);
    data.set(new Uint8Array(i32.buffer), 32);
    data.set(new Uint8Array(big.buffer), 40);
    data.set([0x38, 0x40], 48);
    const file = rawFile(
      {
        f: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        l: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
        i: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
        big: { dtype: 'I64', shape: [1], data_offsets: [40, 48] },
        f8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [48, 50] },
      },
      data,
    );
    const h = parseSafetensorsHeader(file);
    const rd = (n: string) => readTensor(file, { ...h.tensors.get(n)!, name: n }, h.dataOffset);
    expect(Array.from(rd('f'))).toEqual([Math.fround(0.1), -7]);
    expect(Array.from(rd('l'))).toEqual([5, -3]);
    expect(Array.from(rd('i'))).toEqual([1 << 20, -9]);
    expect(() => rd('big')).toThrow(/'big'.*I64.*cannot represent/);
    expect(() => rd('f8')).toThrow(SafetensorsError);
    expect(() => rd('f8')).toThrow(/'f8'.*F8_E4M3/);
  });

  it('refuses to write inconsistent tensors', () => {
    expect(() => writeSafetensors([{ name: 'a', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/needs 4/);
    expect(() =>
      writeSafetensors([
        { name: 'a', shape: [1], data: new Float32Array(1) },
        { name: 'a', shape: [1], data: new Float32Array(1) },
      ]),
    ).toThrow(/twice/);
  });
});

describe('safetensors hostile headers', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data8 = new Uint8Array(8);

  it('too short, too long, too large', () => {
    expectStError(new Uint8Array(0), /fewer than the 8 bytes/);
    expectStError(new Uint8Array(7), /fewer than the 8 bytes/);
    expectStError(rawFile(good, data8, 1000n), /header length \(1000\) is larger than the file/);
    expectStError(rawFile(good, data8, 0xffffffffffffffffn), /header length .* more than/);
    expectStError(rawFile(good, data8, 200_000_000n), /more than the 100000000 bytes/);
    expectStError(rawFile(good, data8, 0n), /only 0 bytes/);
  });

  it('header not JSON, not an object, not UTF-8', () => {
    expectStError(rawFile('{"a": '), /not valid JSON/);
    expectStError(rawFile('[1,2]'), /not a JSON object/);
    expectStError(rawFile('null'), /not a JSON object/);
    expectStError(rawFile('42'), /not a JSON object/);
    const f = rawFile('{"a":1}');
    f[9] = 0xff;
    expectStError(f, /UTF-8/);
  });

  it('bad dtype, shape, offsets', () => {
    const t = (e: unknown) => rawFile({ a: e }, data8);
    expectStError(t(5), /'a' is not described by an object/);
    expectStError(t({ shape: [2], data_offsets: [0, 8] }), /'a' has no dtype/);
    expectStError(t({ dtype: 'Q7', shape: [2], data_offsets: [0, 8] }), /unknown dtype 'Q7'/);
    expectStError(t({ dtype: 'F32', shape: 2, data_offsets: [0, 8] }), /shape that is not a list/);
    expectStError(t({ dtype: 'F32', shape: [-2], data_offsets: [0, 8] }), /shape that is not a list/);
    expectStError(t({ dtype: 'F32', shape: [1.5], data_offsets: [0, 8] }), /shape that is not a list/);
    expectStError(t({ dtype: 'F32', shape: ['2'], data_offsets: [0, 8] }), /shape that is not a list/);
    expectStError(t({ dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] }), /too large/);
    expectStError(t({ dtype: 'F32', shape: [2] }), /data_offsets/);
    expectStError(t({ dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] }), /data_offsets/);
    expectStError(t({ dtype: 'F32', shape: [2], data_offsets: [-8, 0] }), /data_offsets/);
    expectStError(t({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), /ends \(0\) before it begins \(8\)/);
    expectStError(t({ dtype: 'F32', shape: [4], data_offsets: [0, 16] }), /outside the file/);
    expectStError(t({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }), /has 8 bytes of data.*needs 12/);
    expectStError(t({ dtype: 'BF16', shape: [2], data_offsets: [0, 8] }), /needs 4/);
  });

  it('overlapping tensors and bad metadata', () => {
    const two = (b: number, dataBytes = 16) =>
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [b, b + 4] },
        },
        new Uint8Array(dataBytes),
      );
    expectStError(two(4), /'a'.*'b'.*overlap/);
    expectStError(two(0), /overlap/);
    expect(parseSafetensorsHeader(two(8, 12)).tensors.size).toBe(2);
    // packed back to back or refused, as the reference library does: no hole, nothing after the last tensor
    expectStError(two(8), /the last tensor 'b' ends at byte 12 but the data section has 16 bytes/);
    expectStError(two(12), /4 bytes between tensors 'a' \(ends at 8\) and 'b' \(begins at 12\) belong to no tensor/);
    expectStError(rawFile({ ...good, __metadata__: { x: 1 } }, data8), /metadata value 'x'/);
    expectStError(rawFile({ ...good, __metadata__: [1] }, data8), /__metadata__/);
  });

  it('random truncations and byte flips give SafetensorsError or a valid parse, never a crash', () => {
    const file = writeSafetensors(
      [
        { name: 'w', shape: [5, 3], data: Float32Array.from({ length: 15 }, (_, i) => i - 7), dtype: 'F16' },
        { name: 'b', shape: [7], data: new Float32Array(7).fill(0.5) },
      ],
      { format: 'pt' },
    );
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let parsed = 0;
    let refused = 0;
    for (let trial = 0; trial < 600; trial++) {
      let f: Uint8Array;
      if (trial < 200) f = file.subarray(0, Math.floor(rand() * file.length));
      else {
        f = file.slice();
        const flips = 1 + Math.floor(rand() * 3);
        const hdrEnd = 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
        for (let k = 0; k < flips; k++) f[Math.floor(rand() * hdrEnd)] = Math.floor(rand() * 256);
      }
      try {
        const h = parseSafetensorsHeader(f);
        for (const [name, e] of h.tensors) {
          try {
            const t = readTensor(f, { ...e, name }, h.dataOffset);
            expect(t.length).toBe(e.shape.reduce((a, b) => a * b, 1));
          } catch (err) {
            expect(err).toBeInstanceOf(SafetensorsError); // e.g. a flipped dtype we do not convert
          }
        }
        parsed++;
      } catch (err) {
        expect(err).toBeInstanceOf(SafetensorsError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(200);
    expect(parsed).toBeGreaterThan(0);
  });
});
