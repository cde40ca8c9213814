/**
 * A small baseline JPEG encoder for one 8-bit grey channel, for the gateway's "no signal" picture. jpeg-js
 * (the usual pure-JS choice) builds its Huffman and category tables on every call, tens of MB of
 * garbage and tens of ms per picture; this keeps its tables in module scope, skips the DCT for flat
 * blocks (most of a text-on-background picture) and allocates only the output. Standard tables from
 * ITU T.81 Annex K; quality scaling as in libjpeg.
 */

/** Natural (row-major) index -> zig-zag position. */
const ZIGZAG = [
  0, 1, 5, 6, 14, 15, 27, 28, 2, 4, 7, 13, 16, 26, 29, 42, 3, 8, 12, 17, 25, 30, 41, 43, 9, 11, 18, 24, 31, 40, 44, 53, 10, 19, 23, 32, 39, 45, 52, 54, 20, 22,
  33, 38, 46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63,
];
/** Luminance quantisation, natural order (T.81 Table K.1). */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103,
  77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
/** Codes per length 1..16 and symbols (T.81 Tables K.3 and K.5). */
const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_SYMBOLS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_COUNTS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_SYMBOLS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42,
  0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35,
  0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67,
  0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
  0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4,
  0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

interface HuffmanTable {
  code: Uint16Array;
  length: Uint8Array;
}

function huffmanTable(counts: number[], symbols: number[]): HuffmanTable {
  const t = { code: new Uint16Array(256), length: new Uint8Array(256) };
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let j = 0; j < counts[len - 1]!; j++) {
      t.code[symbols[k]!] = code++;
      t.length[symbols[k++]!] = len;
    }
    code <<= 1;
  }
  return t;
}

const DC_TABLE = huffmanTable(DC_COUNTS, DC_SYMBOLS);
const AC_TABLE = huffmanTable(AC_COUNTS, AC_SYMBOLS);
/** COS[x * 8 + u] = C(u)/2 * cos((2x + 1) u π / 16): one 1-D pass of the 8×8 DCT. */
const COS = new Float64Array(64);
for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) COS[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);

function quantTable(quality: number): Uint8Array {
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Uint8Array.from(LUMA_QUANT, (q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))));
}

class BitWriter {
  private buf: Buffer;
  private pos = 0;
  private acc = 0;
  private bits = 0;

  constructor(capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  bytes(data: ArrayLike<number>): void {
    this.ensure(data.length);
    for (let i = 0; i < data.length; i++) this.buf[this.pos++] = data[i]!;
  }

  /** Entropy-coded bits, with 0xFF stuffed as 0xFF 0x00. */
  write(value: number, length: number): void {
    this.acc = (this.acc << length) | (value & ((1 << length) - 1));
    this.bits += length;
    while (this.bits >= 8) {
      const byte = (this.acc >>> (this.bits - 8)) & 0xff;
      this.ensure(2);
      this.buf[this.pos++] = byte;
      if (byte === 0xff) this.buf[this.pos++] = 0;
      this.bits -= 8;
    }
    this.acc &= (1 << this.bits) - 1;
  }

  /** Pads the last byte with 1 bits, as T.81 asks. */
  flush(): void {
    if (this.bits > 0) this.write(0x7f, 8 - this.bits);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** Size category of a DC difference or AC value, and its bits (one's complement for negatives). */
function writeValue(w: BitWriter, table: HuffmanTable, symbolHigh: number, value: number): void {
  const magnitude = Math.abs(value);
  const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
  const symbol = symbolHigh | category;
  w.write(table.code[symbol]!, table.length[symbol]!);
  if (category > 0) w.write(value < 0 ? value - 1 : value, category);
}

function headers(w: BitWriter, width: number, height: number, quant: Uint8Array): void {
  w.bytes([0xff, 0xd8]);
  const dqt = new Uint8Array(64);
  for (let i = 0; i < 64; i++) dqt[ZIGZAG[i]!] = quant[i]!;
  w.bytes([0xff, 0xdb, 0, 67, 0]);
  w.bytes(dqt);
  w.bytes([0xff, 0xc0, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  w.bytes([0xff, 0xc4, 0, 2 + 17 + DC_SYMBOLS.length + 17 + AC_SYMBOLS.length, 0x00, ...DC_COUNTS, ...DC_SYMBOLS, 0x10, ...AC_COUNTS, ...AC_SYMBOLS]);
  w.bytes([0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0]);
}

/** Encodes `gray` (width × height bytes, row-major) as a baseline greyscale JPEG. */
export function encodeGrayJpeg(gray: Uint8Array, width: number, height: number, quality: number): Buffer {
  if (gray.length !== width * height) throw new Error(`expected ${width * height} pixels, got ${gray.length}`);
  const quant = quantTable(quality);
  const w = new BitWriter(4096);
  headers(w, width, height, quant);
  const block = new Float64Array(64);
  const rows = new Float64Array(64);
  const zz = new Int32Array(64);
  let previousDc = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      // Level-shifted block; edge pixels repeat past the picture's right and bottom borders.
      let flat = true;
      for (let y = 0; y < 8; y++) {
        const row = Math.min(by + y, height - 1) * width;
        for (let x = 0; x < 8; x++) {
          block[y * 8 + x] = gray[row + Math.min(bx + x, width - 1)]! - 128;
          if (block[y * 8 + x] !== block[0]) flat = false;
        }
      }
      zz.fill(0);
      if (flat) {
        zz[0] = Math.round((block[0]! * 8) / quant[0]!);
      } else {
        fdct(block, rows);
        for (let i = 0; i < 64; i++) zz[ZIGZAG[i]!] = Math.round(block[i]! / quant[i]!);
      }
      writeValue(w, DC_TABLE, 0, zz[0]! - previousDc);
      previousDc = zz[0]!;
      writeAc(w, zz);
    }
  }
  w.flush();
  w.bytes([0xff, 0xd9]);
  return Buffer.from(w.result());
}

/** In place: rows, then columns. */
function fdct(block: Float64Array, tmp: Float64Array): void {
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * COS[x * 8 + u]!;
      tmp[y * 8 + u] = s;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += tmp[y * 8 + u]! * COS[y * 8 + v]!;
      block[v * 8 + u] = s;
    }
  }
}

function writeAc(w: BitWriter, zz: Int32Array): void {
  let last = 63;
  while (last > 0 && zz[last] === 0) last--;
  let run = 0;
  for (let k = 1; k <= last; k++) {
    if (zz[k] === 0) {
      run++;
      continue;
    }
    for (; run >= 16; run -= 16) w.write(AC_TABLE.code[0xf0]!, AC_TABLE.length[0xf0]!);
    writeValue(w, AC_TABLE, run << 4, zz[k]!);
    run = 0;
  }
  if (last < 63) w.write(AC_TABLE.code[0x00]!, AC_TABLE.length[0x00]!);
}
