/**
 * Per-kernel GPU time of one training step (timestamp queries), for finding where a step's time goes.
 * Usage: deno run -A bench/profile_step.ts [tiny|small|gpt2] [B] [T]
 */
import { Gpu } from "../lib/gpu/runtime.ts";
import { PRESETS } from "../lib/model/config.ts";
import { Activations, GPT2 } from "../lib/model/gpt2.ts";
import { initParams, paramLayout } from "../lib/model/params.ts";
import { AdamW } from "../lib/train/optimizer.ts";

const preset = (Deno.args[0] ?? "tiny") as keyof typeof PRESETS;
const B = Number(Deno.args[1] ?? 8);
const T = Number(Deno.args[2] ?? 64);
const cfg = PRESETS[preset];
const gpu = await Gpu.create({ profile: true });
const model = new GPT2(gpu, cfg, initParams(cfg, paramLayout(cfg), 1), { training: true });
const opt = new AdamW(model, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clip: 1 });
const acts = new Activations(gpu, cfg, B, T, true);
const tokens = Uint32Array.from({ length: B * T }, (_, i) => (i * 7919) % cfg.vocab_size);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? -100 : tokens[i + 1]));
model.setBatch(acts, tokens, targets);
// Step 0 compiles every pipeline (llvmpipe compiles at first dispatch, inside the timed pass), so its
// times are dropped; steps 1 and 2 are averaged.
const STEPS = 3;
try {
  for (let i = 0; i < STEPS; i++) {
    if (i === 1) gpu.resetTimings();
    const t0 = performance.now();
    model.zeroGrads();
    model.step(acts, B, T, tokens, true, 1 / (B * (T - 1)));
    opt.update(1e-4);
    await gpu.sync();
    console.log(
      `step ${i}: ${(performance.now() - t0).toFixed(0)} ms wall (profiled: one pass per dispatch)`,
    );
  }
} catch (e) {
  console.error("FAILED", e);
  await new Promise((r) => setTimeout(r, 60000));
}
let total = 0;
for (const t of gpu.timings()) total += t.ms;
for (const t of gpu.timings()) {
  console.log(
    `${t.name.padEnd(28)} ${String(t.calls).padStart(6)} calls ${
      (t.ms / (STEPS - 1)).toFixed(1).padStart(9)
    } ms/step ${(100 * t.ms / total).toFixed(1).padStart(5)}%`,
  );
}
