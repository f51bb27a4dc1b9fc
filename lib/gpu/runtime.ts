/**
 * The WebGPU runtime every kernel runs on: device acquisition, buffers and views, a pipeline cache keyed
 * by kernel and override constants, batched dispatch with a uniform arena, readback and GPU timing.
 *
 * Dispatches are recorded into one pending command encoder (one compute pass) and submitted together by
 * `flush()`; `read()` flushes first. Uniform values of all pending dispatches live in one arena that is
 * written with a single `writeBuffer` per submit.
 *
 * @module
 */

/** A byte range of a GPU buffer; passed straight to a bind group entry. */
export interface View {
  buffer: GPUBuffer;
  /** Offset in bytes (a multiple of the device's storage offset alignment). */
  offset: number;
  /** Size in bytes. */
  size: number;
}

/** A kernel: WGSL source plus the entry point and override constants that select its variant. */
export interface Kernel {
  /** Name used in the pipeline cache key and in timing reports. */
  name: string;
  code: string;
  entryPoint?: string;
  constants?: Record<string, number>;
}

/** Thrown when no WebGPU adapter exists; its message names the fix. */
export class NoAdapterError extends Error {
  constructor() {
    super(
      "no WebGPU adapter found: install a Vulkan driver (on Debian/Ubuntu without a GPU: " +
        "`apt-get install mesa-vulkan-drivers libvulkan1` for the lavapipe CPU driver)",
    );
    this.name = "NoAdapterError";
  }
}

/** Uniform alignment that is valid on every adapter (WebGPU's maximum for the limit). */
const UNIFORM_ALIGN = 256;
/** Bytes of uniforms one submit can hold before it is flushed automatically. */
const ARENA_BYTES = 1 << 20;
/** Largest workgroup count per dimension that every adapter allows. */
export const MAX_GROUPS_PER_DIM = 65535;

/** Packs uniform values in declaration order; WGSL u32, i32 and f32 fields are 4 bytes each. */
export class Uniforms {
  #view = new DataView(new ArrayBuffer(256));
  #length = 0;
  u32(x: number): this {
    this.#view.setUint32(this.#length, x >>> 0, true);
    this.#length += 4;
    return this;
  }
  i32(x: number): this {
    this.#view.setInt32(this.#length, x | 0, true);
    this.#length += 4;
    return this;
  }
  f32(x: number): this {
    this.#view.setFloat32(this.#length, x, true);
    this.#length += 4;
    return this;
  }
  /** The packed bytes, padded to 16 (WGSL uniform structs are 16-byte aligned). */
  bytes(): Uint8Array {
    const size = Math.max(16, Math.ceil(this.#length / 16) * 16);
    return new Uint8Array(this.#view.buffer, 0, size);
  }
}

/** Splits `n` workgroups into an (x, y) grid within the per-dimension limit; kernels use x + y·nx. */
export function grid(n: number): [number, number] {
  if (n <= MAX_GROUPS_PER_DIM) return [Math.max(1, n), 1];
  const y = Math.ceil(n / MAX_GROUPS_PER_DIM);
  return [Math.ceil(n / y), y];
}

/** Options for `Gpu.create`. */
export interface GpuOptions {
  /** Prefer a high-performance adapter (default true). */
  highPerformance?: boolean;
  /** Record per-kernel GPU time with timestamp queries where the adapter supports them. */
  profile?: boolean;
}

/** Per-kernel GPU time collected in profile mode. */
export interface KernelTiming {
  name: string;
  calls: number;
  ms: number;
}

/** WebGPU's subgroup feature (missing from some GPUFeatureName typings). */
const SUBGROUPS = "subgroups" as GPUFeatureName;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** One WebGPU device and everything needed to run kernels on it. */
export class Gpu {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly isFallbackAdapter: boolean;
  /** Largest storage binding in bytes. Larger tensors are bound in parts (see `rowParts`). */
  readonly maxBinding: number;
  /** Storage buffer offset alignment in bytes. */
  readonly offsetAlign: number;
  readonly hasTimestamps: boolean;
  readonly hasF16: boolean;
  /**
   * Whether kernels may use WGSL subgroup built-ins with subgroups of a multiple of 8 invocations (the
   * `subgroups` feature was granted and the adapter's smallest subgroup has at least 8).
   */
  readonly hasSubgroups: boolean;

  #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #arena: GPUBuffer;
  #arenaBytes = new Uint8Array(ARENA_BYTES);
  #arenaUsed = 0;
  #dispatches = 0;
  #profile: Profiler | null = null;
  #staging: BufferPool;
  // A training step issues the same dispatches every step; reusing their bind groups keeps thousands of
  // short-lived GPU objects per step from piling up until V8 happens to collect their wrappers.
  #bindGroups = new Map<string, GPUBindGroup>();
  #objectIds = new WeakMap<object, number>();
  #nextObjectId = 0;

  private constructor(device: GPUDevice, adapter: GPUAdapter, profile: boolean) {
    this.device = device;
    this.adapterName = adapter.info.description || adapter.info.vendor || "unknown adapter";
    this.isFallbackAdapter = adapter.info.isFallbackAdapter ?? false;
    this.maxBinding = device.limits.maxStorageBufferBindingSize;
    this.offsetAlign = device.limits.minStorageBufferOffsetAlignment;
    this.hasTimestamps = device.features.has("timestamp-query");
    this.hasF16 = device.features.has("shader-f16");
    const minSubgroup = (adapter.info as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
    this.hasSubgroups = device.features.has(SUBGROUPS) && minSubgroup >= 8 && minSubgroup % 8 === 0;
    this.#arena = device.createBuffer({
      label: "uniform arena",
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    if (profile && this.hasTimestamps) this.#profile = new Profiler(device);
    this.#staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, "readback");
  }

  /** Acquires an adapter and a device with the largest buffer limits the adapter offers. */
  static async create(options: GpuOptions = {}): Promise<Gpu> {
    if (!("gpu" in navigator) || !navigator.gpu) throw new NoAdapterError();
    const adapter = await navigator.gpu.requestAdapter({
      powerPreference: options.highPerformance === false ? "low-power" : "high-performance",
    });
    if (!adapter) throw new NoAdapterError();
    const wanted: GPUFeatureName[] = ["timestamp-query", "shader-f16"];
    const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
    const l = adapter.limits;
    const requiredLimits = {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    };
    // Deno's adapter does not list `subgroups` among its features even where the device grants it
    // (lavapipe does), so it is asked for and, if refused, the device is requested without it.
    const device = await adapter.requestDevice({
      requiredFeatures: [...requiredFeatures, SUBGROUPS],
      requiredLimits,
    }).catch(() => adapter.requestDevice({ requiredFeatures, requiredLimits }));
    device.addEventListener("uncapturederror", (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      console.error(`WebGPU error: ${err.message}`);
    });
    return new Gpu(device, adapter, options.profile ?? false);
  }

  /** Allocates a storage buffer of `bytes` (rounded up to 16), zero-filled. */
  buffer(bytes: number, label = "storage"): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > this.device.limits.maxBufferSize) {
      throw new Error(`buffer "${label}" of ${bytes} bytes exceeds the device's maxBufferSize`);
    }
    return this.device.createBuffer({ label, size, usage: STORAGE });
  }

  /**
   * Allocates a zero-filled buffer that can be bound as a uniform buffer and filled by `copy` (kernels that
   * read an operand through the uniform path, see lib/ops/matmul.ts).
   */
  uniformBuffer(bytes: number, label = "uniform"): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > this.device.limits.maxBufferSize) {
      throw new Error(`buffer "${label}" of ${bytes} bytes exceeds the device's maxBufferSize`);
    }
    return this.device.createBuffer({ label, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** Allocates a zero-filled tensor of `floats` 4-byte elements and returns a view of all of it. */
  tensor(floats: number, label = "tensor"): View {
    const buffer = this.buffer(floats * 4, label);
    return { buffer, offset: 0, size: floats * 4 };
  }

  /** A view of `count` 4-byte elements starting at element `start` of `view`. */
  slice(view: View, start: number, count: number): View {
    const offset = view.offset + start * 4;
    if (start < 0 || count < 0 || (start + count) * 4 > view.size) {
      throw new Error(`slice [${start}, ${start + count}) out of range of a ${view.size / 4}-element view`);
    }
    return { buffer: view.buffer, offset, size: Math.max(4, count * 4) };
  }

  /** Uploads `data` into `view` at element `start` (queued; ordered before the next submit). */
  write(view: View, data: Float32Array | Int32Array | Uint32Array, start = 0): void {
    if ((start + data.length) * 4 > view.size) {
      throw new Error(
        `write of ${data.length} elements at ${start} overflows a ${view.size / 4}-element view`,
      );
    }
    this.flush();
    this.device.queue.writeBuffer(
      view.buffer,
      view.offset + start * 4,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** Copies `bytes` from one view to another (recorded into the pending command stream). */
  copy(src: View, dst: View, bytes = Math.min(src.size, dst.size)): void {
    const encoder = this.#endPass();
    encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, bytes);
  }

  /** Zero-fills a view (recorded into the pending command stream). */
  zero(view: View): void {
    const encoder = this.#endPass();
    encoder.clearBuffer(view.buffer, view.offset, Math.ceil(view.size / 4) * 4);
  }

  /** Reads a view back as float32 (flushes pending work). */
  async read(view: View): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(view));
  }

  /** Reads a view back as int32 (flushes pending work). */
  async readI32(view: View): Promise<Int32Array> {
    return new Int32Array(await this.readBytes(view));
  }

  /** Reads a view's raw bytes (flushes pending work). */
  async readBytes(view: View): Promise<ArrayBuffer> {
    const size = Math.ceil(view.size / 4) * 4;
    const staging = this.#staging.acquire(size);
    const encoder = this.#endPass();
    encoder.copyBufferToBuffer(view.buffer, view.offset, staging, 0, size);
    this.flush();
    await staging.mapAsync(GPUMapMode.READ, 0, size);
    const out = staging.getMappedRange(0, size).slice(0, view.size);
    staging.unmap();
    this.#staging.release(staging);
    return out;
  }

  /** The compute pipeline for a kernel variant, compiled once per (name, entry point, constants). */
  pipeline(kernel: Kernel): GPUComputePipeline {
    const constants = kernel.constants ?? {};
    const key = `${kernel.name}:${kernel.entryPoint ?? "main"}:${
      Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(",")
    }`;
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: kernel.name, code: kernel.code });
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: kernel.entryPoint ?? "main", constants },
      });
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Records one dispatch. Binding 0 of group 0 is the kernel's uniform struct (`uniforms`, may be null
   * for kernels without one, in which case storage bindings start at 0); the views follow in order.
   */
  dispatch(
    kernel: Kernel,
    uniforms: Uniforms | null,
    views: View[],
    workgroups: [number, number?, number?],
  ): void {
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_GROUPS_PER_DIM || y > MAX_GROUPS_PER_DIM || z > MAX_GROUPS_PER_DIM) {
      throw new Error(
        `${kernel.name}: dispatch (${x}, ${y}, ${z}) exceeds ${MAX_GROUPS_PER_DIM} per dimension`,
      );
    }
    for (const v of views) {
      if (v.size > this.maxBinding) {
        throw new Error(
          `${kernel.name}: a ${v.size}-byte binding exceeds maxStorageBufferBindingSize ${this.maxBinding}; bind it in parts`,
        );
      }
    }
    const pipeline = this.pipeline(kernel);
    const entries: GPUBindGroupEntry[] = [];
    if (uniforms) {
      const bytes = uniforms.bytes();
      if (this.#arenaUsed + bytes.byteLength > ARENA_BYTES) this.flush();
      const offset = this.#arenaUsed;
      this.#arenaBytes.set(bytes, offset);
      this.#arenaUsed = offset + Math.ceil(bytes.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
      entries.push({ binding: 0, resource: { buffer: this.#arena, offset, size: bytes.byteLength } });
    }
    const first = entries.length;
    views.forEach((v, i) => {
      entries.push({ binding: first + i, resource: { buffer: v.buffer, offset: v.offset, size: v.size } });
    });
    const bindGroup = this.#bindGroup(pipeline, entries);
    const pass = this.#profile ? this.#timedPass(kernel.name) : this.#openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.#profile) this.#endPass();
    this.#dispatches++;
  }

  #objectId(o: object): number {
    let n = this.#objectIds.get(o);
    if (n === undefined) this.#objectIds.set(o, n = this.#nextObjectId++);
    return n;
  }

  #bindGroup(pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let key = String(this.#objectId(pipeline));
    for (const e of entries) {
      const r = e.resource as GPUBufferBinding;
      key += `|${this.#objectId(r.buffer)}:${r.offset}:${r.size}`;
    }
    let group = this.#bindGroups.get(key);
    if (!group) {
      // Bounded: a run that keeps creating new buffers starts the cache afresh rather than growing it.
      if (this.#bindGroups.size >= 16384) this.#bindGroups.clear();
      group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      this.#bindGroups.set(key, group);
    }
    return group;
  }

  /** Staging buffers created for readback so far (they are pooled and reused). */
  get readbackBuffersCreated(): number {
    return this.#staging.created;
  }

  /** Number of dispatches recorded since the device was created. */
  get dispatchCount(): number {
    return this.#dispatches;
  }

  /** Submits all pending work. */
  flush(): void {
    if (!this.#encoder) return;
    this.#endPass();
    if (this.#arenaUsed > 0) {
      this.device.queue.writeBuffer(this.#arena, 0, this.#arenaBytes, 0, this.#arenaUsed);
      this.#arenaUsed = 0;
    }
    this.#profile?.resolve(this.#encoder);
    this.device.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
  }

  /** Flushes and waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    if (this.#profile) await this.#profile.collect();
  }

  /** Per-kernel GPU times gathered so far (profile mode only; empty otherwise). */
  timings(): KernelTiming[] {
    return this.#profile ? this.#profile.report() : [];
  }

  /** Forgets the per-kernel times gathered so far (profile mode), e.g. after a warm-up step. */
  resetTimings(): void {
    this.#profile?.reset();
  }

  /** Releases the device. */
  destroy(): void {
    this.flush();
    this.device.destroy();
  }

  #openPass(): GPUComputePassEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    if (!this.#pass) this.#pass = this.#encoder.beginComputePass();
    return this.#pass;
  }

  #timedPass(name: string): GPUComputePassEncoder {
    // next() may flush when the query set is full, so the encoder is (re)opened after it.
    const writes = this.#profile!.next(name, this);
    this.#pass = this.#endPass().beginComputePass({ timestampWrites: writes });
    return this.#pass;
  }

  #endPass(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    return this.#encoder;
  }
}

/**
 * Reuses buffers of one usage by power-of-two size class: a training loop reads its losses back every
 * step, and creating and destroying a mappable buffer each time costs more than the read itself.
 */
export class BufferPool {
  #device: GPUDevice;
  #usage: GPUBufferUsageFlags;
  #label: string;
  #free = new Map<number, GPUBuffer[]>();
  /** Buffers created so far (for tests and diagnostics). */
  created = 0;

  constructor(device: GPUDevice, usage: GPUBufferUsageFlags, label: string) {
    this.#device = device;
    this.#usage = usage;
    this.#label = label;
  }

  /** A buffer of at least `bytes` bytes; give it back with `release` once no pending work uses it. */
  acquire(bytes: number): GPUBuffer {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    const buffer = this.#free.get(size)?.pop();
    if (buffer) return buffer;
    this.created++;
    return this.#device.createBuffer({ label: `${this.#label} ${size}`, size, usage: this.#usage });
  }

  /** Returns a buffer to the pool. */
  release(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#free.set(buffer.size, list);
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
  }
}

/** Collects begin/end timestamps of every dispatch in profile mode. */
class Profiler {
  static readonly CAPACITY = 2048; // passes per query set: WebGPU allows 4096 queries, two per pass
  #device: GPUDevice;
  #querySet: GPUQuerySet;
  #resolveBuffer: GPUBuffer;
  #names: string[] = [];
  #pending: { staging: GPUBuffer; names: string[] }[] = [];
  #totals = new Map<string, KernelTiming>();

  constructor(device: GPUDevice) {
    this.#device = device;
    this.#querySet = device.createQuerySet({ type: "timestamp", count: Profiler.CAPACITY * 2 });
    this.#resolveBuffer = device.createBuffer({
      size: Profiler.CAPACITY * 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  next(name: string, gpu: Gpu): GPUComputePassTimestampWrites {
    if (this.#names.length === Profiler.CAPACITY) gpu.flush();
    const i = this.#names.length;
    this.#names.push(name);
    return { querySet: this.#querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  resolve(encoder: GPUCommandEncoder): void {
    const n = this.#names.length;
    if (n === 0) return;
    const staging = this.#device.createBuffer({
      size: n * 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.#querySet, 0, 2 * n, this.#resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.#resolveBuffer, 0, staging, 0, n * 16);
    this.#pending.push({ staging, names: this.#names });
    this.#names = [];
  }

  async collect(): Promise<void> {
    for (const { staging, names } of this.#pending) {
      await staging.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(staging.getMappedRange());
      names.forEach((name, i) => {
        const ms = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        const entry = this.#totals.get(name) ?? { name, calls: 0, ms: 0 };
        entry.calls++;
        entry.ms += ms;
        this.#totals.set(name, entry);
      });
      staging.unmap();
      staging.destroy();
    }
    this.#pending = [];
  }

  reset(): void {
    this.#totals.clear();
  }

  report(): KernelTiming[] {
    return [...this.#totals.values()].sort((a, b) => b.ms - a.ms);
  }
}

/**
 * A row range of a row-major matrix [rows, cols] that fits one storage binding. Tensors larger than
 * `maxBinding` (GPT-2's 50257×768 token embedding on lavapipe) are bound as several parts.
 */
export interface RowPart {
  view: View;
  /** First row of the part. */
  row0: number;
  /** Rows in the part. */
  rows: number;
}

/**
 * Splits a [rows, cols] matrix into parts that each fit one binding. Part boundaries fall on multiples
 * of 64 rows so each part's byte offset stays aligned to 256 bytes.
 */
export function rowParts(gpu: Gpu, view: View, rows: number, cols: number): RowPart[] {
  const rowBytes = cols * 4;
  if (rows * rowBytes <= gpu.maxBinding) return [{ view, row0: 0, rows }];
  const perPart = Math.floor(gpu.maxBinding / rowBytes / 64) * 64;
  if (perPart === 0) throw new Error(`a row of ${cols} floats does not fit one storage binding`);
  const parts: RowPart[] = [];
  for (let row0 = 0; row0 < rows; row0 += perPart) {
    const n = Math.min(perPart, rows - row0);
    parts.push({ view: gpu.slice(view, row0 * cols, n * cols), row0, rows: n });
  }
  return parts;
}
