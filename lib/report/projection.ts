/**
 * 2-D projections of hidden states for the report: PCA and t-SNE from druidjs (a maintained
 * dimensionality-reduction library), both seeded so the same states give the same picture.
 *
 * @module
 */
import * as druid from "@saehrimnir/druidjs";

/** Projection methods, as named in the report. */
export const PROJECTIONS = ["PCA", "t-SNE"] as const;
/** A projection method. */
export type ProjectionMethod = typeof PROJECTIONS[number];

/** One projected point: which panel (e.g. a student), which method, whose state (teacher or student). */
export interface ProjectionPoint {
  panel: string;
  method: ProjectionMethod;
  model: string;
  x: number;
  y: number;
}

/**
 * Projects `rows` (n, D) to (n, 2). PCA is fitted on all rows; t-SNE uses perplexity min(30, (n − 1)/3)
 * and 500 iterations. Throws for fewer than 3 rows or rows of unequal length.
 */
export function project2d(rows: number[][], method: ProjectionMethod, seed = 1): [number, number][] {
  if (rows.length < 3) throw new Error(`a 2-D projection needs at least 3 points, got ${rows.length}`);
  const D = rows[0].length;
  if (rows.some((r) => r.length !== D)) {
    throw new Error("hidden states of unequal width cannot share a projection");
  }
  let out: number[][];
  if (method === "PCA") {
    out = druid.PCA.transform(rows, { d: 2, seed }) as number[][];
  } else {
    const perplexity = Math.max(2, Math.min(30, Math.floor((rows.length - 1) / 3)));
    out = new druid.TSNE(rows, { d: 2, perplexity, seed }).transform(500) as number[][];
  }
  return out.map((p) => [Number(p[0]), Number(p[1])]);
}

/**
 * Points of one panel: teacher rows and student rows projected together (one shared space per method),
 * labelled "teacher" and `studentLabel`.
 */
export function projectPair(
  panel: string,
  teacher: number[][],
  student: number[][],
  studentLabel = "student",
): ProjectionPoint[] {
  const rows = [...teacher, ...student];
  const points: ProjectionPoint[] = [];
  for (const method of PROJECTIONS) {
    project2d(rows, method).forEach(([x, y], i) => {
      points.push({ panel, method, model: i < teacher.length ? "teacher" : studentLabel, x, y });
    });
  }
  return points;
}
