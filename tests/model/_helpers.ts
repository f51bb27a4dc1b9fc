/**
 * Test helpers for the model-file tests: a raw safetensors writer that can produce any dtype and exact
 * float → F16/BF16 bit conversions (for values those formats represent exactly).
 *
 * @module
 */

/** A tensor given as raw little-endian bytes. */
export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Writes a safetensors file the plain way (header unpadded, tensors in order), independent of the encoder. */
export function rawSafetensors(tensors: RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  return rawFile(JSON.stringify(header), tensors.map((t) => t.bytes));
}

/** 8-byte length + the given header text + data blobs. */
export function rawFile(headerText: string, blobs: Uint8Array[] = []): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const size = blobs.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(8 + json.length + size);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** Little-endian bytes of 16-bit words. */
export function u16Bytes(words: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(words.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) dv.setUint16(2 * i, words[i], true);
  return out;
}

/** Bytes of a Float32Array (little-endian hosts). */
export function f32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** float16 bits of a normal number or zero that float16 represents exactly; throws otherwise. */
export function toHalfExact(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  const frac = (a / 2 ** e - 1) * 1024;
  if (e < -14 || e > 15 || !Number.isInteger(frac)) throw new Error(`${x} is not exact in float16`);
  return sign | ((e + 15) << 10) | frac;
}

/** bfloat16 bits of a float32 value whose low 16 bits are zero; throws otherwise. */
export function toBf16Exact(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0];
  if ((bits & 0xffff) !== 0) throw new Error(`${x} is not exact in bfloat16`);
  return bits >>> 16;
}
