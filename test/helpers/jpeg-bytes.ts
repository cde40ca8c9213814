/**
 * Synthetic JPEG byte layouts for unit tests of the marker walk (capture/source/kinds/jpeg.ts): the segments a
 * camera sends, with a few bytes standing in for the compressed scan. Not decodable pictures.
 */
function segment(marker: number, payload: number[]): number[] {
  const len = payload.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...payload];
}

export function fakeJpeg(width: number, height: number, opts: { huffman?: boolean; sof?: number; scanBytes?: number } = {}): Buffer {
  const sof = opts.sof ?? 0xc0;
  const bytes = [
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xdb, [0, ...new Array<number>(64).fill(1)]),
    ...segment(sof, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...(opts.huffman === false ? [] : segment(0xc4, [0, ...new Array<number>(16).fill(0)])),
    ...segment(0xda, [1, 1, 0, 0, 63, 0]),
    ...Array.from({ length: opts.scanBytes ?? 32 }, (_, i) => (i * 37) & 0x7f),
    0xff,
    0xd9,
  ];
  return Buffer.from(bytes);
}
