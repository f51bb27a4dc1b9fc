/**
 * The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}}` (offsets relative to the end of the header), then the raw little-endian data.
 *
 * @module
 */

/** A decoded tensor; F16 and BF16 data are converted to float32. */
export interface StTensor {
  /** The dtype stored in the file. */
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  /** Float32 values; for F32 tensors stored 4-byte aligned this is a view into the parsed bytes. */
  data: Float32Array;
}

/** A tensor to encode as F32. */
export interface StInput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Bytes per element of every dtype the format defines (for bounds checks of tensors we do not decode). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The safetensors library refuses headers larger than this; so do we, before parsing JSON. */
const MAX_HEADER = 100_000_000;

/** Options for `parseSafetensors`. */
export interface ParseOptions {
  /**
   * Which tensors to decode (default all). Others are only bounds-checked, so their dtype may be one we
   * cannot convert (e.g. the BOOL attention masks some GPT-2 files carry).
   */
  keep?: (name: string) => boolean;
}

/** float16 bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Parses a safetensors file. Throws a one-line Error starting with `source` (a file name for messages)
 * when the file is truncated or corrupt (bad header length or JSON, offsets out of range or inconsistent
 * with shape and dtype, overlapping tensors) or a kept tensor's dtype is not F32, F16 or BF16.
 * The `__metadata__` entry is not returned (see `safetensorsMetadata`).
 */
export function parseSafetensors(
  bytes: Uint8Array,
  source: string,
  options: ParseOptions = {},
): Map<string, StTensor> {
  const { header, dataStart } = readHeader(bytes, source);
  const dataBytes = bytes.length - dataStart;
  const out = new Map<string, StTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const where = `${source}: tensor "${name}"`;
    if (typeof entry !== "object" || entry === null) {
      throw new Error(`${where}: header entry is not an object`);
    }
    const { dtype, shape, data_offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(data_offsets) || data_offsets.length !== 2 ||
      !data_offsets.every((d) => Number.isInteger(d) && d >= 0) || data_offsets[0] > data_offsets[1]
    ) {
      throw new Error(`${where}: data_offsets ${JSON.stringify(data_offsets)} is not [begin, end]`);
    }
    const [begin, end] = data_offsets as number[];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_BYTES[dtype]) {
      throw new Error(
        `${where}: ${end - begin} data bytes do not match ${dtype} shape [${shape}] (${
          numel * DTYPE_BYTES[dtype]
        })`,
      );
    }
    if (end > dataBytes) {
      throw new Error(`${where}: data ends at byte ${end} but the file has ${dataBytes} (truncated?)`);
    }
    ranges.push([begin, end, name]);
    if (options.keep && !options.keep(name)) continue;
    if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") {
      throw new Error(`${where}: dtype ${dtype} is not supported (F32, F16, BF16)`);
    }
    out.set(name, { dtype, shape: shape as number[], data: decode(bytes, dataStart + begin, numel, dtype) });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) {
      throw new Error(`${source}: tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
    }
  }
  return out;
}

/** The `__metadata__` strings of a safetensors file (empty when absent). */
export function safetensorsMetadata(bytes: Uint8Array, source: string): Record<string, string> {
  const meta = readHeader(bytes, source).header.__metadata__;
  if (meta === undefined) return {};
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    throw new Error(`${source}: __metadata__ is not an object`);
  }
  return meta as Record<string, string>;
}

function readHeader(
  bytes: Uint8Array,
  source: string,
): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw new Error(
      `${source}: not a safetensors file (${bytes.length} bytes, shorter than the 8-byte header length)`,
    );
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw new Error(`${source}: corrupt safetensors header length ${n}`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    throw new Error(
      `${source}: safetensors header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte file (truncated?)`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    throw new Error(`${source}: corrupt safetensors header (${(e as Error).message.split("\n")[0]})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`${source}: corrupt safetensors header (not a JSON object)`);
  }
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLength };
}

function decode(bytes: Uint8Array, at: number, numel: number, dtype: "F32" | "F16" | "BF16"): Float32Array {
  const abs = bytes.byteOffset + at;
  if (dtype === "F32") {
    if (abs % 4 === 0) return new Float32Array(bytes.buffer, abs, numel);
    return new Float32Array(bytes.slice(at, at + numel * 4).buffer);
  }
  const u16 = abs % 2 === 0
    ? new Uint16Array(bytes.buffer, abs, numel)
    : new Uint16Array(bytes.slice(at, at + numel * 2).buffer);
  const out = new Float32Array(numel);
  if (dtype === "BF16") {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < numel; i++) bits[i] = u16[i] << 16;
  } else {
    // float16 has 65536 bit patterns: decode each once.
    const table = f16Table();
    for (let i = 0; i < numel; i++) out[i] = table[u16[i]];
  }
  return out;
}

let halfTable: Float32Array | null = null;
function f16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Encodes tensors as an F32 safetensors file, tensors stored in the given order. The header is padded with
 * spaces to a multiple of 8 bytes (as the safetensors library does) so the data is aligned. Deterministic:
 * the same input gives the same bytes.
 */
export function encodeSafetensors(tensors: StInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__" || Object.hasOwn(header, t.name)) {
      throw new Error(`encodeSafetensors: duplicate name "${t.name}"`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new Error(
        `encodeSafetensors: "${t.name}" has ${t.data.length} floats, shape [${t.shape}] needs ${numel}`,
      );
    }
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + numel * 4] };
    offset += numel * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
