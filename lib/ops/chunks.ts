/**
 * Splitting an element range of flat buffers (the parameter, gradient and optimizer-state buffers) into
 * windows that each fit one storage binding. GPT-2 124M is 498 MB of parameters; lavapipe binds at most
 * 128 MiB at a time.
 *
 * A window starts on a multiple of 64 floats (256 bytes, the largest storage offset alignment WebGPU
 * allows) and is bound rounded up to whole vec4s; kernels mask the elements outside the range, so a range
 * may start and end anywhere.
 *
 * @module
 */
import type { Gpu, View } from "../gpu/runtime.ts";

/** Window starts are multiples of this many floats (256 bytes). */
export const CHUNK_ALIGN_FLOATS = 64;

/** One binding-sized window of a range. */
export interface Chunk {
  /** First float of the window, relative to the start of the views (a multiple of 64). */
  start: number;
  /** Floats bound (a multiple of 4; may reach past the range to finish the last vec4). */
  floats: number;
  /** The range's first float, relative to the window. */
  lo: number;
  /** One past the range's last float, relative to the window. */
  hi: number;
}

/** The largest window for this device: `maxBinding` rounded down to a multiple of 64 floats. */
export function defaultChunkFloats(gpu: Gpu): number {
  return Math.floor(gpu.maxBinding / 4 / CHUNK_ALIGN_FLOATS) * CHUNK_ALIGN_FLOATS;
}

/**
 * Splits the float range [start, start + count) into windows of at most `chunkFloats` floats.
 *
 * @param chunkFloats window size, a positive multiple of 64
 */
export function chunkRange(start: number, count: number, chunkFloats: number): Chunk[] {
  if (!Number.isInteger(chunkFloats) || chunkFloats <= 0 || chunkFloats % CHUNK_ALIGN_FLOATS !== 0) {
    throw new Error(`chunkFloats must be a positive multiple of ${CHUNK_ALIGN_FLOATS}, got ${chunkFloats}`);
  }
  const end = start + count;
  const chunks: Chunk[] = [];
  for (
    let w = Math.floor(start / CHUNK_ALIGN_FLOATS) * CHUNK_ALIGN_FLOATS;
    w < end;
    w += chunkFloats
  ) {
    const wEnd = Math.min(w + chunkFloats, Math.ceil(end / 4) * 4);
    chunks.push({
      start: w,
      floats: wEnd - w,
      lo: Math.max(start, w) - w,
      hi: Math.min(end, w + chunkFloats) - w,
    });
  }
  return chunks;
}

/** Throws unless [start, start + count) is a valid range of non-negative integers within `floats`. */
export function checkRange(op: string, start: number, count: number, floats: number, what: string): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0) {
    throw new Error(`${op}: range start ${start}, count ${count} must be non-negative integers`);
  }
  if (start + count > floats) {
    throw new Error(`${op}: range [${start}, ${start + count}) exceeds the ${floats}-float ${what}`);
  }
}

/** Throws unless `view` can be bound as it is (its offset a multiple of the storage offset alignment). */
export function checkAligned(gpu: Gpu, op: string, what: string, view: View): void {
  if (view.offset % gpu.offsetAlign !== 0 || view.offset % 16 !== 0) {
    throw new Error(
      `${op}: ${what} view offset ${view.offset} is not a multiple of ${gpu.offsetAlign} bytes`,
    );
  }
}

/**
 * The binding for one window of `view`. Throws a clear error when the view's offset is not aligned for
 * binding at window starts, or when its buffer has no room for the last vec4 (buffers from `Gpu.buffer`
 * are padded to 16 bytes, so views that start on a vec4 always have room).
 */
export function bindWindow(gpu: Gpu, op: string, what: string, view: View, chunk: Chunk): View {
  checkAligned(gpu, op, what, view);
  const offset = view.offset + chunk.start * 4;
  const size = chunk.floats * 4;
  if (offset + size > view.buffer.size) {
    throw new Error(
      `${op}: ${what} needs bytes [${offset}, ${offset + size}) of its ${view.buffer.size}-byte buffer ` +
        `(ranges are bound in whole vec4s)`,
    );
  }
  return { buffer: view.buffer, offset, size };
}
