/**
 * Student initialisation from a teacher's weights, as DistilGPT2 was made (HF distillation's
 * scripts/extract.py): the token and position embeddings and ln_f are copied, and student block i is a
 * copy of teacher block blocks[i].
 *
 * @module
 */
import type { GPT2Config } from "../model/config.ts";
import { type ParamLayout, paramLayout } from "../model/params.ts";

/** The student architecture a teacher and a block map imply: the teacher's, with `blocks.length` blocks. */
export function studentConfigFor(teacher: GPT2Config, blocks: readonly number[]): GPT2Config {
  return { ...teacher, n_layer: blocks.length };
}

/**
 * Checks that a student architecture can take the teacher's tensors: same vocabulary, width and heads,
 * no more positions than the teacher, one block per map entry. Throws a one-line Error naming the first
 * mismatch.
 */
export function checkCopyable(teacher: GPT2Config, student: GPT2Config, blocks: readonly number[]): void {
  const fail = (why: string): never => {
    throw new Error(`cannot initialise the student from the teacher: ${why}`);
  };
  if (student.n_embd !== teacher.n_embd) {
    fail(
      `widths differ (student n_embd ${student.n_embd}, teacher ${teacher.n_embd}); copying needs equal widths`,
    );
  }
  if (student.n_head !== teacher.n_head) {
    fail(`head counts differ (student n_head ${student.n_head}, teacher ${teacher.n_head})`);
  }
  if (student.vocab_size !== teacher.vocab_size) {
    fail(`vocabularies differ (student V ${student.vocab_size}, teacher ${teacher.vocab_size})`);
  }
  if (student.n_positions > teacher.n_positions) {
    fail(`the student's n_positions ${student.n_positions} exceeds the teacher's ${teacher.n_positions}`);
  }
  if (student.n_layer !== blocks.length) {
    fail(`the block map names ${blocks.length} teacher blocks but the student has ${student.n_layer}`);
  }
  for (const b of blocks) {
    if (!Number.isInteger(b) || b < 0 || b >= teacher.n_layer) {
      fail(`teacher block ${b} does not exist (the teacher has ${teacher.n_layer})`);
    }
  }
}

const BLOCK_TENSORS = [
  "ln_1.weight",
  "ln_1.bias",
  "attn.c_attn.weight",
  "attn.c_attn.bias",
  "attn.c_proj.weight",
  "attn.c_proj.bias",
  "ln_2.weight",
  "ln_2.bias",
  "mlp.c_fc.weight",
  "mlp.c_fc.bias",
  "mlp.c_proj.weight",
  "mlp.c_proj.bias",
];

/**
 * Student parameters (in `paramLayout(student)` order) copied from the teacher: wte, wpe (the student's
 * first n_positions rows), ln_f, and h.i.* = teacher h.blocks[i].*. Bit-exact copies; padding is zero.
 *
 * @param teacherParams (teacherLayout.total) flat teacher parameters
 * @param blocks (student n_layer) teacher block index of each student block
 */
export function initFromTeacher(
  teacher: GPT2Config,
  teacherLayout: ParamLayout,
  teacherParams: Float32Array,
  student: GPT2Config,
  blocks: readonly number[],
): { layout: ParamLayout; params: Float32Array } {
  checkCopyable(teacher, student, blocks);
  const layout = paramLayout(student);
  const params = new Float32Array(layout.total);
  const copy = (to: string, from: string) => {
    const dst = layout.byName.get(to)!;
    const src = teacherLayout.byName.get(from);
    if (!src) throw new Error(`teacher parameters have no tensor ${from}`);
    // A prefix copy: wpe rows beyond the student's n_positions are dropped, every other size is equal.
    params.set(teacherParams.subarray(src.offset, src.offset + dst.size), dst.offset);
  };
  copy("wte.weight", "wte.weight");
  copy("wpe.weight", "wpe.weight");
  blocks.forEach((b, i) => {
    for (const name of BLOCK_TENSORS) copy(`h.${i}.${name}`, `h.${b}.${name}`);
  });
  copy("ln_f.weight", "ln_f.weight");
  copy("ln_f.bias", "ln_f.bias");
  return { layout, params };
}
