/**
 * Throughput measurements of the engine: a full training step (forward, loss, backward, AdamW),
 * a forward pass with loss, and the output-projection matmul, on random tokens.
 *
 * @module
 */
import type { Gpu } from "../gpu/runtime.ts";
import type { GPT2Config } from "../model/config.ts";
import { Activations, GPT2 } from "../model/gpt2.ts";
import { initParams, paramLayout } from "../model/params.ts";
import { matmul, matmulFlops } from "../ops/matmul.ts";
import { Rng } from "../rng.ts";
import { AdamW } from "../train/optimizer.ts";

/** One configuration's figures (the `deno task bench --json` record). */
export interface BenchResult {
  config: { n_layer: number; n_embd: number; n_head: number; batch: number; seq: number };
  train_tokens_per_s: number;
  forward_tokens_per_s: number;
  /** GFLOP/s of the (B·T, V, C) output projection matmul, logits = x · wteᵀ. */
  matmul_gflops: number;
  train_step_ms: number;
  forward_ms: number;
  adapter: string;
}

/** Times `fn` (which must leave the GPU idle when it resolves) `iters` times after `warmup` runs; returns ms. */
async function timeIt(fn: () => Promise<void>, warmup: number, iters: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return (performance.now() - t0) / iters;
}

/** Benchmarks one model configuration at batch (B, T). */
export async function benchConfig(
  gpu: Gpu,
  cfg: GPT2Config,
  B: number,
  T: number,
  opts: { warmup: number; iters: number },
): Promise<BenchResult> {
  const layout = paramLayout(cfg);
  const model = new GPT2(gpu, cfg, initParams(cfg, layout, 1), { training: true });
  const opt = new AdamW(model, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clip: 1 });
  const acts = new Activations(gpu, cfg, B, T, true);
  const rng = new Rng(7);
  const tokens = Uint32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? -100 : tokens[i + 1]));
  model.setBatch(acts, tokens, targets);
  const scale = 1 / (B * (T - 1));

  const trainMs = await timeIt(
    async () => {
      model.zeroGrads();
      model.step(acts, B, T, tokens, true, scale);
      opt.update(1e-4);
      await gpu.read(gpu.slice(acts.losses, 0, 4));
    },
    opts.warmup,
    opts.iters,
  );
  const forwardMs = await timeIt(
    async () => {
      model.step(acts, B, T, tokens, false, 1);
      await gpu.read(gpu.slice(acts.losses, 0, 4));
    },
    opts.warmup,
    opts.iters,
  );

  // The output projection alone, with the same buffers the model uses.
  const rows = Math.min(B * T, acts.chunkRows);
  const part = model.p.wte[0];
  const mmMs = await timeIt(
    async () => {
      matmul(gpu, {
        out: acts.logits,
        a: acts.lnf,
        b: part.view,
        M: rows,
        N: part.rows,
        K: cfg.n_embd,
        transB: true,
        ldOut: model.Vp,
      });
      await gpu.sync();
    },
    1,
    opts.iters,
  );

  return {
    config: { n_layer: cfg.n_layer, n_embd: cfg.n_embd, n_head: cfg.n_head, batch: B, seq: T },
    train_tokens_per_s: (B * T) / (trainMs / 1000),
    forward_tokens_per_s: (B * T) / (forwardMs / 1000),
    matmul_gflops: matmulFlops(rows, part.rows, cfg.n_embd) / (mmMs / 1000) / 1e9,
    train_step_ms: trainMs,
    forward_ms: forwardMs,
    adapter: gpu.adapterName,
  };
}
