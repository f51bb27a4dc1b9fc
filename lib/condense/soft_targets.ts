/**
 * Adding a teacher's top-k logits to an existing condensed set, after condensation: the same "soft" field
 * `condense --soft-targets N` writes (output.ts), for sets whose condensation could not use that teacher
 * (dm sets learned in a student's own embedding space, where `--model` is taken by the dm reference).
 *
 * @module
 */
import { type CondensedExample, type CondenseMeta, metaPath, writeCondensed } from "./output.ts";
import type { LanguageModel } from "./lm.ts";

/** One line of a condensed file, as written by output.ts. */
interface Line {
  text: string;
  ids: number[];
  source: number | "synthetic";
  weight: number;
  prompt_block?: number;
  init_block?: number;
  mean_logprob?: number;
  embeds?: { file: string; offset: number; shape: [number, number] };
}

/**
 * Rewrites the condensed set at `path` (and its sidecar) with the teacher's top-`k` logits of every
 * position of every example; everything else (lines, embeddings file) is unchanged. Returns the
 * milliseconds the teacher took.
 */
export async function addSoftTargets(path: string, lm: LanguageModel, k: number): Promise<number> {
  const lines: Line[] = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l));
  const meta = JSON.parse(await Deno.readTextFile(metaPath(path))) as CondenseMeta;
  if (lines.length === 0) throw new Error(`${path} holds no examples`);
  const T = lines[0].ids.length;
  if (lm.maxPositions !== null && T > lm.maxPositions) {
    throw new Error(`${lm.name} takes at most ${lm.maxPositions} positions, the set has ${T}-token examples`);
  }
  if (!Number.isInteger(k) || k < 1 || k > lm.vocabSize) {
    throw new Error(`soft-target width k must be in 1 … ${lm.vocabSize}, got ${k}`);
  }
  const ids = new Uint32Array(lines.length * T);
  lines.forEach((l, j) => {
    if (l.ids.length !== T) throw new Error(`${path}:${j + 1}: example of ${l.ids.length} tokens, not ${T}`);
    ids.set(l.ids, j * T);
  });
  const t0 = performance.now();
  const top = await lm.topK(ids, lines.length, T, k);
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  const per = T * k;
  const examples: CondensedExample[] = lines.map((l, j) => ({
    text: l.text,
    ids: l.ids,
    source: l.source,
    weight: l.weight,
    promptBlock: l.prompt_block,
    initBlock: l.init_block,
    meanLogProb: l.mean_logprob,
    soft: {
      k,
      indices: top.indices.subarray(j * per, (j + 1) * per),
      logits: top.logits.subarray(j * per, (j + 1) * per),
    },
    embeds: l.embeds ? { file: l.embeds.file, offset: l.embeds.offset, shape: l.embeds.shape } : undefined,
  }));
  const timings = (meta.timings ?? {}) as Record<string, number>;
  const updated: CondenseMeta = {
    ...meta,
    soft_targets: { k, teacher: lm.name, added_after_condensation: true },
    timings: { ...timings, soft_targets_ms: ms },
  };
  // The embeddings file is left as it is (null: not rewritten).
  await writeCondensed(path, examples, updated, null);
  return ms;
}
