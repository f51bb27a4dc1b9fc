/**
 * Distribution matching: the forward pass from input embeddings, nearest-token decoding, the DM gradient
 * against finite differences of its loss, the loss going down on a tiny model, and the end-to-end `dm`
 * method (embeddings file, nearest ids, byte-identical output).
 */
import assert from "node:assert/strict";
import { condense } from "../../lib/condense/condense.ts";
import {
  distributionMatching,
  DmObjective,
  type DmReference,
  gatherEmbeddings,
} from "../../lib/condense/dm.ts";
import { EmbeddedGPT2 } from "../../lib/condense/embedded_forward.ts";
import { nearestTokens } from "../../lib/condense/lm.ts";
import { embedsPath, metaPath } from "../../lib/condense/output.ts";
import { gpt2Tokenizer } from "../../lib/data/tokenizer.ts";
import { Activations } from "../../lib/model/gpt2.ts";
import { Rng } from "../../lib/rng.ts";
import { assertClose, testGpu } from "../_check.ts";
import { options, readJsonl, tinyGpt2, topicCorpus, workspace } from "./_helpers.ts";

/** The reference (wte, wpe, shape) of a tiny random model. */
function reference(seed: number, overrides = {}): DmReference {
  const m = tinyGpt2(
    { vocab_size: 97, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 16, ...overrides },
    seed,
  );
  const wte = m.layout.byName.get("wte.weight")!;
  const wpe = m.layout.byName.get("wpe.weight")!;
  return {
    config: m.config,
    wte: m.params.subarray(wte.offset, wte.offset + wte.size),
    wpe: m.params.subarray(wpe.offset, wpe.offset + wpe.size),
  };
}

Deno.test("EmbeddedGPT2.forwardFromEmbeddings() of wte rows equals the forward pass from token ids", async () => {
  const gpu = await testGpu();
  const m = tinyGpt2({ vocab_size: 97, n_embd: 24, n_layer: 2, n_head: 2 }, 6);
  const model = new EmbeddedGPT2(gpu, m.config, m.params, { training: false });
  const B = 3, T = 7, C = 24;
  const rng = new Rng(2);
  const ids = Uint32Array.from({ length: B * T }, () => rng.int(97));
  const acts = new Activations(gpu, m.config, B, T, false);
  model.setBatch(acts, ids, null);
  model.forwardHidden(acts, B, T);
  const fromIds = await gpu.read(gpu.slice(acts.lnf, 0, B * T * C));
  const wte = m.layout.byName.get("wte.weight")!;
  const embeds = gatherEmbeddings(m.params.subarray(wte.offset, wte.offset + wte.size), C, ids, T, [0, 1, 2]);
  const view = gpu.tensor(embeds.length);
  gpu.write(view, embeds);
  model.forwardFromEmbeddings(acts, B, T, view);
  assertClose(await gpu.read(gpu.slice(acts.lnf, 0, B * T * C)), fromIds, { atol: 1e-6, rtol: 1e-6 }, "lnf");
  // The token path is untouched afterwards.
  model.setBatch(acts, ids, null);
  model.forwardHidden(acts, B, T);
  assertClose(await gpu.read(gpu.slice(acts.lnf, 0, B * T * C)), fromIds, { atol: 0, rtol: 0 }, "lnf again");
});

Deno.test("nearestTokens() matches a brute-force search (n=37, V=130, C=24)", async () => {
  const gpu = await testGpu();
  const n = 37, V = 130, C = 24;
  const rng = new Rng(3);
  const wte = Float32Array.from({ length: V * C }, () => rng.normal());
  const vectors = Float32Array.from({ length: n * C }, () => rng.normal());
  // A few vectors sit right next to a table row.
  for (let i = 0; i < 5; i++) {
    for (let c = 0; c < C; c++) vectors[i * C + c] = wte[(17 * i + 3) * C + c] + 0.01 * rng.normal();
  }
  const got = await nearestTokens(gpu, vectors, n, wte, V, C);
  for (let i = 0; i < n; i++) {
    let best = 0, bestD = Infinity;
    for (let v = 0; v < V; v++) {
      let d = 0;
      for (let c = 0; c < C; c++) d += (vectors[i * C + c] - wte[v * C + c]) ** 2;
      if (d < bestD) [best, bestD] = [v, d];
    }
    assert.equal(got[i], best, `vector ${i}`);
    if (i < 5) assert.equal(got[i], 17 * i + 3);
  }
});

Deno.test("DmObjective gradient matches central finite differences of its loss", async () => {
  const gpu = await testGpu();
  const ref = reference(7);
  const T = 5, C = 32, Br = 4, Bs = 3;
  const obj = new DmObjective(gpu, ref, T, 4);
  obj.setNetwork(11);
  const rng = new Rng(8);
  const realIds = Uint32Array.from({ length: Br * T }, () => rng.int(97));
  obj.setReal(gatherEmbeddings(ref.wte, C, realIds, T, [0, 1, 2, 3]), Br);
  const synIds = Uint32Array.from({ length: Bs * T }, () => rng.int(97));
  const syn = gatherEmbeddings(ref.wte, C, synIds, T, [0, 1, 2]);
  const { loss, grad } = await obj.lossAndGrad(syn, Bs);
  assert.ok(
    Math.abs(loss - (await obj.loss(syn, Bs))) <= 1e-6 * Math.max(1, loss),
    "loss() equals lossAndGrad()",
  );
  assert.ok(loss > 0);
  // Directional derivatives along random unit directions (float32 forward: h large enough to beat rounding).
  const h = 2e-3;
  for (let trial = 0; trial < 3; trial++) {
    const dir = Float32Array.from({ length: syn.length }, () => rng.normal());
    const norm = Math.sqrt(dir.reduce((a, x) => a + x * x, 0));
    let analytic = 0;
    for (let i = 0; i < dir.length; i++) {
      dir[i] /= norm;
      analytic += grad[i] * dir[i];
    }
    const up = await obj.loss(syn.map((x, i) => x + h * dir[i]), Bs);
    const down = await obj.loss(syn.map((x, i) => x - h * dir[i]), Bs);
    const numeric = (up - down) / (2 * h);
    assert.ok(
      Math.abs(numeric - analytic) <= 0.02 * Math.abs(analytic) + 1e-4,
      `trial ${trial}: finite difference ${numeric}, gradient ${analytic}`,
    );
  }
});

Deno.test("distributionMatching() lowers the loss on a tiny model and decodes nearest tokens", async () => {
  const gpu = await testGpu();
  const ref = reference(9);
  const T = 6, nBlocks = 12, k = 4;
  const rng = new Rng(10);
  const blocks = Uint32Array.from({ length: nBlocks * T }, () => rng.int(97));
  const opts = { k, T, seed: 1, iterations: 30, lr: 2e-2, realBatch: nBlocks, synBatch: k, inits: 1 };
  const r = await distributionMatching(gpu, blocks, ref, opts);
  assert.equal(r.losses.length, 30);
  assert.ok(r.losses[29] < 0.3 * r.losses[0], `loss ${r.losses[0]} → ${r.losses[29]}`);
  assert.equal(r.embeds.length, k * T * 32);
  assert.equal(new Set(r.initBlocks).size, k);
  // Without iterations, the embeddings are the initial blocks' wte rows and decode back to them.
  const r0 = await distributionMatching(gpu, blocks, ref, { ...opts, iterations: 0 });
  assert.deepEqual(r0.embeds, gatherEmbeddings(ref.wte, 32, blocks, T, r0.initBlocks));
  for (let j = 0; j < k; j++) {
    const b = r0.initBlocks[j];
    assert.deepEqual(r0.nearest.subarray(j * T, (j + 1) * T), blocks.subarray(b * T, (b + 1) * T));
  }
  // Deterministic for a seed.
  assert.deepEqual((await distributionMatching(gpu, blocks, ref, opts)).embeds, r.embeds);
});

Deno.test("condense() dm writes k embedding-valued examples and a byte-identical embeddings file", async () => {
  const gpu = await testGpu();
  const ws = await workspace(topicCorpus(30));
  try {
    const T = 8, k = 3;
    const o = options(ws.data, ws.out, ws.cache, {
      seq: T,
      k,
      method: "dm",
      dmIterations: 3,
      dmRealBatch: 4,
      dmSynBatch: 2,
      seed: 4,
      gpu,
    });
    const { nBlocks } = await condense(o);
    const lines = await readJsonl(ws.out);
    assert.equal(lines.length, k);
    const C = 128; // the tiny preset
    const tokenizer = await gpt2Tokenizer();
    lines.forEach((line, j) => {
      assert.equal(line.source, "synthetic");
      assert.equal(line.weight, nBlocks / k);
      assert.equal((line.ids as number[]).length, T);
      assert.equal(line.text, tokenizer.decode(line.ids as number[]));
      assert.ok(Number.isInteger(line.init_block));
      assert.deepEqual(line.embeds, {
        file: "condensed.jsonl.embeds.f32",
        offset: j * T * C * 4,
        shape: [T, C],
        dtype: "float32",
      });
    });
    const embeds = await Deno.readFile(embedsPath(ws.out));
    assert.equal(embeds.length, k * T * C * 4);
    const meta = JSON.parse(await Deno.readTextFile(metaPath(ws.out)));
    assert.deepEqual(meta.dm.embeds_shape, [k, T, C]);
    const jsonl = await Deno.readFile(ws.out);
    await condense(o);
    assert.deepEqual(await Deno.readFile(ws.out), jsonl);
    assert.deepEqual(await Deno.readFile(embedsPath(ws.out)), embeds);
  } finally {
    await Deno.remove(ws.dir, { recursive: true });
  }
});
