/**
 * Student initialisation from a teacher (block maps, exact copies, clear errors) and layer-map parsing.
 */
import assert from "node:assert/strict";
import { checkCopyable, initFromTeacher, studentConfigFor } from "../../lib/distill/init.ts";
import {
  defaultBlockMap,
  DISTILGPT2_LAYERS,
  formatLayerMap,
  pairsFromBlockMap,
  parseBlockMap,
  parseLayerMap,
} from "../../lib/distill/layer_map.ts";
import { tinyModel } from "./_helpers.ts";

Deno.test("defaultBlockMap() is DistilGPT2's map for 12 → 6 and evenly spaced from first to last block otherwise", () => {
  assert.deepEqual(defaultBlockMap(12, 6), [...DISTILGPT2_LAYERS]);
  assert.deepEqual(defaultBlockMap(12, 6), [0, 2, 4, 7, 9, 11]);
  assert.deepEqual(defaultBlockMap(4, 2), [0, 3]);
  assert.deepEqual(defaultBlockMap(24, 4), [0, 8, 15, 23]);
  assert.deepEqual(defaultBlockMap(5, 5), [0, 1, 2, 3, 4]);
  assert.deepEqual(defaultBlockMap(7, 1), [0]);
  assert.throws(() => defaultBlockMap(4, 5), /1 … 4 blocks/);
});

Deno.test("parseBlockMap() and parseLayerMap() accept valid maps and reject bad ones in one line", () => {
  assert.deepEqual(parseBlockMap("0, 2,4,7,9,11", 12), [0, 2, 4, 7, 9, 11]);
  assert.throws(() => parseBlockMap("0,2,x", 12), /expects teacher block indices/);
  assert.throws(() => parseBlockMap("0,12", 12), /block 12 does not exist \(the teacher has 12 blocks\)/);
  assert.throws(() => parseBlockMap("3,1", 12), /must increase/);
  assert.throws(() => parseBlockMap("", 12), /expects teacher block indices/);
  assert.deepEqual(parseLayerMap("2:4,4:8,6:12", 6, 12), [
    { student: 2, teacher: 4 },
    { student: 4, teacher: 8 },
    { student: 6, teacher: 12 },
  ]);
  assert.throws(() => parseLayerMap("2-4", 6, 12), /student:teacher/);
  assert.throws(() => parseLayerMap("7:4", 6, 12), /student hidden state 7 does not exist/);
  assert.throws(() => parseLayerMap("2:13", 6, 12), /teacher hidden state 13 does not exist/);
  assert.throws(() => parseLayerMap("2:4,2:5", 6, 12), /appears twice/);
  const pairs = pairsFromBlockMap([0, 2, 4, 7, 9, 11]);
  assert.equal(formatLayerMap(pairs), "1:1,2:3,3:5,4:8,5:10,6:12");
});

Deno.test("initFromTeacher() copies embeddings, ln_f and the mapped blocks bit for bit", () => {
  const teacher = tinyModel({ n_layer: 5, n_positions: 16 }, 51);
  const blocks = [0, 3, 4];
  const student = { ...studentConfigFor(teacher.config, blocks), n_positions: 12 };
  const { layout, params } = initFromTeacher(teacher.config, teacher.layout, teacher.params, student, blocks);
  assert.equal(params.length, layout.total);
  const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
  const tensor = (p: Float32Array, l: typeof layout, name: string, size?: number) => {
    const t = l.byName.get(name)!;
    return bits(p.subarray(t.offset, t.offset + (size ?? t.size)));
  };
  let copied = 0;
  for (const t of layout.tensors) {
    const m = /^h\.(\d+)\.(.*)$/.exec(t.name);
    const from = m ? `h.${blocks[Number(m[1])]}.${m[2]}` : t.name;
    assert.deepEqual(
      tensor(params, layout, t.name),
      tensor(teacher.params, teacher.layout, from, t.size),
      t.name,
    );
    copied += t.size;
  }
  // wpe keeps the student's first 12 positions; nothing else is left at zero.
  assert.equal(layout.byName.get("wpe.weight")!.size, 12 * 16);
  assert.equal(copied, layout.tensors.reduce((a, t) => a + t.size, 0));
  // A different block is really different (the check can fail).
  assert.notDeepEqual(
    tensor(params, layout, "h.1.attn.c_attn.weight"),
    tensor(teacher.params, teacher.layout, "h.1.attn.c_attn.weight"),
  );
});

Deno.test("initFromTeacher() needs equal widths, heads and vocabularies and a block per map entry", () => {
  const t = tinyModel({ n_layer: 4 }, 52).config;
  assert.throws(
    () => checkCopyable(t, { ...t, n_embd: 32, n_layer: 2 }, [0, 3]),
    /widths differ \(student n_embd 32, teacher 16\)/,
  );
  assert.throws(() => checkCopyable(t, { ...t, n_head: 4, n_layer: 2 }, [0, 3]), /head counts differ/);
  assert.throws(() => checkCopyable(t, { ...t, vocab_size: 50, n_layer: 2 }, [0, 3]), /vocabularies differ/);
  assert.throws(
    () => checkCopyable(t, { ...t, n_positions: 64, n_layer: 2 }, [0, 3]),
    /n_positions 64 exceeds/,
  );
  assert.throws(
    () => checkCopyable(t, { ...t, n_layer: 3 }, [0, 3]),
    /names 2 teacher blocks but the student has 3/,
  );
  assert.throws(() => checkCopyable(t, { ...t, n_layer: 2 }, [0, 4]), /teacher block 4 does not exist/);
});
