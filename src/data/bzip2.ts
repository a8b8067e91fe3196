// bzip2 decompression (the format of bzip2 1.0 / libbzip2), block by block, so a reader can count the
// records of the blocks before a break. Written here because the npm decoders either need Node's
// Buffer and streams (seek-bzip, unbzip2-stream), need the output size up front (@foxglove/wasm-bz2)
// or are GPL (compressjs). Every block's CRC and the stream CRC are checked; a file that ends early
// throws Bzip2Error 'truncated', bad data or a CRC mismatch 'corrupt'. Concatenated streams (pbzip2)
// are read one after the other.
//
// A block: Huffman-coded MTF/RLE2 symbols -> inverse move-to-front -> inverse Burrows-Wheeler -> RLE1.

export class Bzip2Error extends Error {
  override name = 'Bzip2Error';
  constructor(
    readonly reason: 'truncated' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const EOS_MAGIC_HI = 0x177245;
const EOS_MAGIC_LO = 0x385090;
const MAX_CODE_LEN = 20;
const GROUP_SIZE = 50;

/** CRC-32 as bzip2 uses it: polynomial 0x04c11db7, MSB first (not gzip's reflected one). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** "BZh" and a block-size digit 1-9. */
export function isBzip2(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68 && b[3] >= 0x31 && b[3] <= 0x39;
}

class BitReader {
  private pos = 0; // in bits
  constructor(private readonly b: Uint8Array) {}

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.pos >>> 3;
      if (byte >= this.b.length) throw new Bzip2Error('truncated', `the compressed data stops after ${this.b.length} bytes, inside a block`);
      v = (v << 1) | ((this.b[byte] >>> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v >>> 0;
  }

  bit(): number {
    return this.bits(1);
  }

  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  get bytePos(): number {
    return this.pos >>> 3;
  }

  get atEnd(): boolean {
    return this.pos >>> 3 >= this.b.length;
  }
}

interface HuffTable {
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
  minLen: number;
}

/** libbzip2's decode tables (BZ2_hbCreateDecodeTables) from code lengths. */
function huffTable(lengths: Uint8Array, alphaSize: number): HuffTable {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    minLen = Math.min(minLen, lengths[i]);
    maxLen = Math.max(maxLen, lengths[i]);
  }
  const perm = new Int32Array(alphaSize);
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) for (let j = 0; j < alphaSize; j++) if (lengths[j] === i) perm[pp++] = j;
  const base = new Int32Array(MAX_CODE_LEN + 3);
  const limit = new Int32Array(MAX_CODE_LEN + 3).fill(-1);
  for (let i = 0; i < alphaSize; i++) base[lengths[i] + 1]++;
  for (let i = 1; i < base.length; i++) base[i] += base[i - 1];
  let vec = 0;
  for (let i = minLen; i <= maxLen; i++) {
    vec += base[i + 1] - base[i];
    limit[i] = vec - 1;
    vec <<= 1;
  }
  for (let i = minLen + 1; i <= maxLen; i++) base[i] = ((limit[i - 1] + 1) << 1) - base[i];
  return { limit, base, perm, minLen };
}

const corrupt = (what: string) => new Bzip2Error('corrupt', what);

/** One block's output bytes (after inverse BWT and RLE1) and its CRC, checked against the stored one. */
function decodeBlock(r: BitReader, blockSize: number, blockNo: number): { data: Uint8Array; crc: number } {
  const storedCrc = ((r.bits(16) << 16) | r.bits(16)) >>> 0;
  if (r.bit()) throw corrupt(`block ${blockNo} uses the randomised format of bzip2 0.9.0, which is not read here`);
  const origPtr = r.bits(24);

  // the byte values used in this block
  const inUse16 = r.bits(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(inUse16 & (0x8000 >>> i))) continue;
    const bits = r.bits(16);
    for (let j = 0; j < 16; j++) if (bits & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
  }
  if (seqToUnseq.length === 0) throw corrupt(`block ${blockNo} uses no byte values`);
  const alphaSize = seqToUnseq.length + 2;

  const nGroups = r.bits(3);
  if (nGroups < 2 || nGroups > 6) throw corrupt(`block ${blockNo} has ${nGroups} Huffman tables (2 to 6 are valid)`);
  const nSelectors = r.bits(15);
  if (nSelectors < 1) throw corrupt(`block ${blockNo} has no table selectors`);
  const mtfGroups = Array.from({ length: nGroups }, (_, i) => i);
  const selectors = new Uint8Array(nSelectors);
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (r.bit()) {
      j++;
      if (j >= nGroups) throw corrupt(`block ${blockNo} has a table selector out of range`);
    }
    const v = mtfGroups[j];
    mtfGroups.splice(j, 1);
    mtfGroups.unshift(v);
    selectors[i] = v;
  }

  const tables: HuffTable[] = [];
  for (let t = 0; t < nGroups; t++) {
    const lengths = new Uint8Array(alphaSize);
    let curr = r.bits(5);
    for (let i = 0; i < alphaSize; i++) {
      for (;;) {
        if (curr < 1 || curr > MAX_CODE_LEN) throw corrupt(`block ${blockNo} has a Huffman code length of ${curr}`);
        if (!r.bit()) break;
        curr += r.bit() ? -1 : 1;
      }
      lengths[i] = curr;
    }
    tables.push(huffTable(lengths, alphaSize));
  }

  // Huffman -> RLE2 (RUNA/RUNB runs of the front symbol) -> inverse MTF, into tt's low bytes
  const EOB = alphaSize - 1;
  const maxBlock = blockSize * 100000;
  const tt = new Uint32Array(maxBlock);
  const unzftab = new Int32Array(256);
  const yy = new Uint8Array(256);
  for (let i = 0; i < 256; i++) yy[i] = i;
  let groupNo = -1;
  let groupPos = 0;
  let table = tables[0];
  const nextSym = (): number => {
    if (groupPos === 0) {
      groupNo++;
      if (groupNo >= nSelectors) throw corrupt(`block ${blockNo} runs past its table selectors`);
      groupPos = GROUP_SIZE;
      table = tables[selectors[groupNo]];
    }
    groupPos--;
    let zn = table.minLen;
    let zvec = r.bits(zn);
    while (zvec > table.limit[zn]) {
      zn++;
      if (zn > MAX_CODE_LEN) throw corrupt(`block ${blockNo} holds an invalid Huffman code`);
      zvec = (zvec << 1) | r.bit();
    }
    const k = zvec - table.base[zn];
    if (k < 0 || k >= alphaSize) throw corrupt(`block ${blockNo} holds an invalid Huffman code`);
    return table.perm[k];
  };
  let n = 0;
  let sym = nextSym();
  for (;;) {
    if (sym === EOB) break;
    if (sym <= 1) {
      let es = -1;
      let N = 1;
      do {
        es += (sym + 1) * N;
        N *= 2;
        if (N > 2 * maxBlock) throw corrupt(`block ${blockNo} has a run longer than the block`);
        sym = nextSym();
      } while (sym <= 1);
      es++;
      const uc = seqToUnseq[yy[0]];
      if (n + es > maxBlock) throw corrupt(`block ${blockNo} is longer than its declared block size`);
      unzftab[uc] += es;
      tt.fill(uc, n, n + es);
      n += es;
      continue;
    }
    if (n >= maxBlock) throw corrupt(`block ${blockNo} is longer than its declared block size`);
    const nn = sym - 1;
    const u = yy[nn];
    yy.copyWithin(1, 0, nn);
    yy[0] = u;
    const uc = seqToUnseq[u];
    if (uc === undefined) throw corrupt(`block ${blockNo} refers to a byte value it does not use`);
    unzftab[uc]++;
    tt[n++] = uc;
    sym = nextSym();
  }
  if (origPtr >= n) throw corrupt(`block ${blockNo} has its start pointer (${origPtr}) outside its ${n} bytes`);

  // inverse Burrows-Wheeler: tt[i] gets the index of the next byte in its high 24 bits
  const cftab = new Int32Array(257);
  for (let i = 0; i < 256; i++) cftab[i + 1] = cftab[i] + unzftab[i];
  for (let i = 0; i < n; i++) {
    const uc = tt[i] & 0xff;
    tt[cftab[uc]] |= i << 8;
    cftab[uc]++;
  }

  // undo RLE1 (4 equal bytes, then a count of more) while computing the block CRC
  let out = new Uint8Array(Math.max(16, n + (n >> 2)));
  let o = 0;
  const put = (b: number) => {
    if (o === out.length) {
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[o++] = b;
  };
  let tPos = tt[origPtr] >>> 8;
  let prev = -1;
  let run = 0;
  for (let i = 0; i < n; i++) {
    tPos = tt[tPos];
    const b = tPos & 0xff;
    tPos >>>= 8;
    if (run === 4) {
      for (let k = 0; k < b; k++) put(prev);
      run = 0;
      continue;
    }
    if (b === prev) run++;
    else {
      prev = b;
      run = 1;
    }
    put(b);
  }
  const data = out.subarray(0, o);
  let crc = 0xffffffff;
  for (let i = 0; i < o; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]) & 0xff]) >>> 0;
  crc = ~crc >>> 0;
  if (crc !== storedCrc) throw corrupt(`block ${blockNo}'s CRC does not match its data`);
  return { data, crc };
}

/**
 * Decompresses a whole .bz2 file, yielding each block's bytes in order (so what came before a break
 * has been handed out when the Bzip2Error is thrown).
 */
export function* bunzip2Blocks(bytes: Uint8Array): Generator<Uint8Array> {
  const r = new BitReader(bytes);
  let streams = 0;
  let blockNo = 0;
  for (;;) {
    // stream header "BZh1".."BZh9"
    if (streams > 0) {
      r.alignToByte();
      if (r.atEnd || !isBzip2(bytes.subarray(r.bytePos, r.bytePos + 4))) return; // trailing bytes are ignored, as bzip2 does
    }
    if (r.bits(8) !== 0x42 || r.bits(8) !== 0x5a || r.bits(8) !== 0x68) throw corrupt('the bzip2 header is missing');
    const level = r.bits(8) - 0x30;
    if (level < 1 || level > 9) throw corrupt(`the bzip2 block size ${level} is not 1-9`);
    streams++;
    let combined = 0;
    for (;;) {
      const hi = r.bits(24);
      const lo = r.bits(24);
      if (hi === EOS_MAGIC_HI && lo === EOS_MAGIC_LO) {
        const stored = ((r.bits(16) << 16) | r.bits(16)) >>> 0;
        if (stored !== combined) throw corrupt('the stream CRC does not match its blocks');
        break;
      }
      if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw corrupt(`block ${blockNo + 1} does not start with the block signature`);
      blockNo++;
      const { data, crc } = decodeBlock(r, level, blockNo);
      combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0; // the stream CRC combines the block CRCs
      yield data;
    }
  }
}
