/**
 * Teacher and student hidden states for the report's 2-D projection: both models run in
 * onnxruntime-node from their hidden-state exports (onnx/hidden.onnx), on the same test sequences, and
 * the pair of hidden states that the student's MSE or Wasserstein term matched (run.json's
 * `distill.pairs`, the last pair) is projected with PCA and t-SNE.
 *
 * @module
 */
import { exportOnnx } from "../onnx/export.ts";
import { OnnxTeacher } from "../onnx/teacher.ts";
import { type ProjectionPoint, projectPair } from "../report/projection.ts";

/** The last `student:teacher` pair of a run.json's `distill.pairs` ("1:1,2:2" → {student: 2, teacher: 2}). */
export async function matchedPair(runDir: string): Promise<{ student: number; teacher: number }> {
  const run = JSON.parse(await Deno.readTextFile(`${runDir}/run.json`));
  const text: unknown = run?.distill?.pairs;
  const last = typeof text === "string" ? text.split(",").pop() : undefined;
  const m = last ? /^(\d+):(\d+)$/.exec(last.trim()) : null;
  if (!m) throw new Error(`${runDir}/run.json names no hidden-state pair (distill.pairs)`);
  return { student: Number(m[1]), teacher: Number(m[2]) };
}

/** Rows (B·T, C) of hidden state `index` from a model folder's hidden.onnx, for ids (B, T). */
async function hiddenRows(
  modelDir: string,
  ids: Uint32Array,
  B: number,
  T: number,
  index: number,
  vocabSize: number,
  threads: number,
): Promise<number[][]> {
  const session = await OnnxTeacher.open(modelDir, { vocabSize, seq: T, needHidden: true }, { threads });
  try {
    const out = await session.run(ids, B, T);
    const states = out.hidden;
    if (!states || index >= states.length) {
      throw new Error(`${modelDir}: hidden state ${index} is not among its ${states?.length ?? 0} outputs`);
    }
    const h = states[index];
    const C = h.length / (B * T);
    return Array.from({ length: B * T }, (_, r) => Array.from(h.subarray(r * C, (r + 1) * C)));
  } finally {
    session.close();
  }
}

/**
 * Projection points of one student against the teacher (`panel` names it in the plot). Exports the
 * student's hidden.onnx first when it has none; the teacher's must exist.
 *
 * @param ids (B, T) test token ids
 * @param vocabSize V of both models (checked against their logits)
 */
export async function hiddenProjection(
  panel: string,
  teacherDir: string,
  studentRunDir: string,
  ids: Uint32Array,
  B: number,
  T: number,
  vocabSize: number,
  threads: number,
): Promise<ProjectionPoint[]> {
  const studentDir = `${studentRunDir}/model`;
  const exists = await Deno.stat(`${studentDir}/onnx/hidden.onnx`).then(() => true, () => false);
  if (!exists) await exportOnnx(studentDir, { hidden: true });
  const pair = await matchedPair(studentRunDir);
  const teacher = await hiddenRows(teacherDir, ids, B, T, pair.teacher, vocabSize, threads);
  const student = await hiddenRows(studentDir, ids, B, T, pair.student, vocabSize, threads);
  return projectPair(`${panel} (student h${pair.student} vs teacher h${pair.teacher})`, teacher, student);
}
