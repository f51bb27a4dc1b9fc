/**
 * The demo's experiment arms: four students distilled from the same teacher that differ only in their
 * loss, and three condensation methods whose 120-example sets each train a model from scratch.
 *
 * @module
 */
import type { CondenseMethod } from "../condense/condense.ts";
import { DISTILGPT2_LOSS, type LossWeights } from "../distill/objective.ts";

/** Loss weights of a student arm (the critic settings are shared, see {@link CRITIC}). */
export type StudentLoss = LossWeights;

/** A student arm. */
export interface StudentArm {
  id: string;
  label: string;
  loss: StudentLoss;
}

/** HF distiller's DistilGPT2 weights: 5·ce(T=2) + 2·clm + 1·cos. */
const KD: StudentLoss = DISTILGPT2_LOSS;

/** The students, in report order. */
export const STUDENT_ARMS: readonly StudentArm[] = [
  { id: "clm", label: "causal LM only", loss: { ...KD, alphaCe: 0, alphaClm: 1, alphaCos: 0 } },
  { id: "kd", label: "KD (ce+clm+cos)", loss: KD },
  { id: "kd-mse", label: "KD + MSE", loss: { ...KD, alphaMse: 1 } },
  { id: "kd-wd", label: "KD + Wasserstein", loss: { ...KD, alphaWd: 0.1 } },
];

/** The arms whose hidden states are projected against the teacher's in the report. */
export const PROJECTED_ARMS = ["kd-mse", "kd-wd"] as const;

/** Critic settings of the Wasserstein arm: small and few updates, to fit the time budget. */
export const CRITIC = { nCritic: 2, criticLr: 1e-4, criticHidden: 64, gpLambda: 10, criticClip: 0 };

/** A condensation arm. */
export interface CondensedArm {
  id: CondenseMethod;
  label: string;
}

/** The condensation methods, in report order. */
export const CONDENSED_ARMS: readonly CondensedArm[] = [
  { id: "kmeans", label: "k-means (TF-IDF)" },
  { id: "random", label: "random blocks" },
  { id: "synthetic", label: "synthetic (teacher)" },
];
