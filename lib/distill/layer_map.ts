/**
 * Layer maps for distillation: which teacher blocks initialise the student's blocks (DistilGPT2 copies
 * teacher blocks [0, 2, 4, 7, 9, 11] of GPT-2 into its six blocks), and which student hidden states are
 * matched to which teacher hidden states by the hidden-state losses.
 *
 * Hidden states are numbered as Hugging Face's `output_hidden_states` (and `GPT2.hiddenState`): 0 is the
 * embedding output, i (1 ≤ i < L) the output of block i − 1, L the output of ln_f.
 *
 * @module
 */

/** One student ↔ teacher hidden-state pair (HF hidden_states indices). */
export interface HiddenPair {
  /** Student hidden state, 0 … Ls. */
  student: number;
  /** Teacher hidden state, 0 … Lt. */
  teacher: number;
}

/** DistilGPT2's choice of GPT-2 blocks for its 6-block student (HF's scripts/extract_distilbert-style). */
export const DISTILGPT2_LAYERS: readonly number[] = [0, 2, 4, 7, 9, 11];

/**
 * The teacher blocks that initialise a student of `studentLayers` blocks: evenly spaced from the first to
 * the last teacher block, round(i·(Lt − 1)/(Ls − 1)). For 12 → 6 this is DistilGPT2's [0, 2, 4, 7, 9, 11].
 */
export function defaultBlockMap(teacherLayers: number, studentLayers: number): number[] {
  if (!Number.isInteger(teacherLayers) || teacherLayers < 1) {
    throw new Error(`the teacher must have at least one block, got ${teacherLayers}`);
  }
  if (!Number.isInteger(studentLayers) || studentLayers < 1 || studentLayers > teacherLayers) {
    throw new Error(
      `a student initialised from a ${teacherLayers}-block teacher needs 1 … ${teacherLayers} blocks, got ${studentLayers}`,
    );
  }
  if (teacherLayers === 12 && studentLayers === 6) return [...DISTILGPT2_LAYERS];
  if (studentLayers === 1) return [0];
  return Array.from(
    { length: studentLayers },
    (_, i) => Math.round((i * (teacherLayers - 1)) / (studentLayers - 1)),
  );
}

/**
 * Parses `--init-from-teacher LAYERS`: comma-separated teacher block indices ("0,2,4,7,9,11"), strictly
 * increasing, each < `teacherLayers`. Throws a one-line Error otherwise.
 */
export function parseBlockMap(text: string, teacherLayers: number): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const blocks = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (parts.length === 0 || blocks.some((b) => !Number.isInteger(b))) {
    throw new Error(`--init-from-teacher expects teacher block indices like 0,2,4,7,9,11, got '${text}'`);
  }
  blocks.forEach((b, i) => {
    if (b >= teacherLayers) {
      throw new Error(
        `--init-from-teacher: block ${b} does not exist (the teacher has ${teacherLayers} blocks)`,
      );
    }
    if (i > 0 && b <= blocks[i - 1]) {
      throw new Error(`--init-from-teacher: block indices must increase, got '${text}'`);
    }
  });
  return blocks;
}

/**
 * The hidden-state pairs implied by a block map: student block i's output (hidden state i + 1) ↔ teacher
 * block map[i]'s output (hidden state map[i] + 1). The last pair compares ln_f outputs when both maps end
 * at the last block, as DistilGPT2's does.
 */
export function pairsFromBlockMap(blocks: readonly number[]): HiddenPair[] {
  return blocks.map((b, i) => ({ student: i + 1, teacher: b + 1 }));
}

/**
 * Parses `--layer-map`: comma-separated `student:teacher` hidden-state pairs ("2:4,4:8,6:12"), each index
 * within 0 … L of its model, no student index twice. Throws a one-line Error otherwise.
 */
export function parseLayerMap(text: string, studentLayers: number, teacherLayers: number): HiddenPair[] {
  const pairs: HiddenPair[] = [];
  for (const part of text.split(",").map((s) => s.trim())) {
    const m = /^(\d+):(\d+)$/.exec(part);
    if (!m) {
      throw new Error(
        `--layer-map expects student:teacher hidden-state pairs like 2:4,4:8,6:12, got '${text}'`,
      );
    }
    const pair = { student: Number(m[1]), teacher: Number(m[2]) };
    if (pair.student > studentLayers) {
      throw new Error(
        `--layer-map: student hidden state ${pair.student} does not exist (0 … ${studentLayers})`,
      );
    }
    if (pair.teacher > teacherLayers) {
      throw new Error(
        `--layer-map: teacher hidden state ${pair.teacher} does not exist (0 … ${teacherLayers})`,
      );
    }
    if (pairs.some((p) => p.student === pair.student)) {
      throw new Error(`--layer-map: student hidden state ${pair.student} appears twice`);
    }
    pairs.push(pair);
  }
  return pairs;
}

/** "1:1,2:3" — the `--layer-map` spelling of pairs (recorded in run.json). */
export function formatLayerMap(pairs: readonly HiddenPair[]): string {
  return pairs.map((p) => `${p.student}:${p.teacher}`).join(",");
}
