/**
 * The parts of the public API that use onnxruntime-node (a native addon: importing this module needs
 * `--allow-ffi=./node_modules`): the ONNX teacher, knowledge distillation, model comparison and dataset
 * condensation. Re-exports only; the WebGPU engine is in `mod.ts`.
 *
 * @example
 * ```ts
 * import { OnnxTeacher } from "./onnx.ts";
 * const teacher = await OnnxTeacher.open("runs/teacher/model", { vocabSize: 50257, seq: 128, needHidden: true });
 * ```
 *
 * @module
 */
export { OnnxTeacher } from "./lib/onnx/teacher.ts";
export { WebGpuTeacher } from "./lib/distill/webgpu_teacher.ts";
export { runDistillation } from "./lib/distill/run.ts";
export { compareModels } from "./lib/distill/compare.ts";
export { condense, type CondenseOptions } from "./lib/condense/condense.ts";
