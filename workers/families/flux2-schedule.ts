/**
 * FLUX.2's sampling schedule, as diffusers' klein pipelines set it: sigmas linspace(1, 1/n, n),
 * shifted by mu from compute_empirical_mu (a fit over the noisy-token count and the step count)
 * with FlowMatchEulerDiscreteScheduler's exponential time shift, sigma' = e^mu / (e^mu + 1/sigma - 1),
 * then a final 0. The scheduler shifts a float32 array with Python scalars (numpy keeps float32),
 * so every operation rounds to float32 here too; the sigmas come out bit-identical to diffusers'.
 */

/** diffusers' compute_empirical_mu(image_seq_len, num_steps), in float64 as Python computes it. */
export function empiricalMu(imageTokens: number, steps: number): number {
  const [a1, b1] = [8.73809524e-5, 1.89833333];
  const [a2, b2] = [0.00016927, 0.45666666];
  if (imageTokens > 4300) return a2 * imageTokens + b2;
  const m200 = a2 * imageTokens + b2;
  const m10 = a1 * imageTokens + b1;
  const a = (m200 - m10) / 190.0;
  const b = m200 - 200.0 * a;
  return a * steps + b;
}

/** steps + 1 sigmas from 1 to 0 for a noisy image of `imageTokens` tokens (latent h x w / 4). */
export function flux2Sigmas(steps: number, imageTokens: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  const f = Math.fround;
  const e = f(Math.exp(empiricalMu(imageTokens, steps)));
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    // np.linspace(1, 1 / n, n) in float64, then astype(float32).
    const t = f(steps === 1 ? 1 : 1 + ((1 / steps - 1) * i) / (steps - 1));
    out[i] = f(e / f(e + f(f(1 / t) - 1)));
  }
  return out;
}
