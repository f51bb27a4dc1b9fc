/** Arrays the plain-TypeScript references read and write: float32 to compare with kernels, float64 for finite differences. */
export type Floats = Float32Array | Float64Array;
