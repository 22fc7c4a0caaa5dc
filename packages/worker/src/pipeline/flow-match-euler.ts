import type { FlowMatchEulerConfig } from '@clickvid/core';

/**
 * Flow-matching Euler, as diffusers' FlowMatchEulerDiscreteScheduler computes it
 * (scheduling_flow_match_euler_discrete.py: `set_timesteps`, `step`). σ runs from 1 (pure
 * noise) to 0 (data); the model predicts the velocity v = noise − data, so one Euler step is
 * x ← x + (σ_next − σ)·v. Sigmas are rounded to float32 where diffusers holds them in float32,
 * so a job's latents match the reference pipeline's.
 *
 * The scheduler itself is stateless config; each job carries its own state (`start`), so rows
 * of different jobs at different steps share one scheduler, and a multistep scheduler could
 * keep its history there.
 */
export interface FlowMatchState {
  /** Model-facing timesteps, σ·num_train_timesteps, one per step. */
  readonly timesteps: Float32Array;
  /** σ per step plus the final 0. */
  readonly sigmas: Float32Array;
  /** The next step to take; `timesteps.length` when done. */
  index: number;
}

export class FlowMatchEulerScheduler {
  readonly #sigmaMin: number;
  readonly #sigmaMax: number;

  constructor(readonly config: FlowMatchEulerConfig) {
    const n = config.num_train_timesteps;
    // __init__: σ over the training grid 1/n … 1, shifted unless the shift is dynamic (per resolution).
    const grid = (t: number) => (config.use_dynamic_shifting ? Math.fround(t / n) : this.#shift(Math.fround(t / n)));
    this.#sigmaMax = Math.fround(grid(n));
    this.#sigmaMin = Math.fround(grid(1));
  }

  /**
   * set_timesteps: a fresh state for `steps` steps. `mu` is the dynamic shift (calculateShift)
   * and is required when the config has use_dynamic_shifting. `begin` skips the first steps
   * (set_begin_index), for a job that starts from latents already part-denoised: bring them
   * to σ = sigmas[begin] with scaleNoise first. `startSigma` scales the whole schedule so that it
   * runs from that σ to 0 in `steps` steps: a refine of latents noised to σ = startSigma (refine-on-promote).
   */
  start(steps: number, opts: { mu?: number; begin?: number; startSigma?: number } = {}): FlowMatchState {
    const { num_train_timesteps: n, use_dynamic_shifting, shift_terminal } = this.config;
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
    const begin = opts.begin ?? 0;
    if (!Number.isInteger(begin) || begin < 0 || begin >= steps) throw new RangeError(`begin must be a step in [0, ${steps}), got ${begin}`);
    if (use_dynamic_shifting && opts.mu === undefined) throw new RangeError('this scheduler config shifts per resolution: pass mu');
    // Evenly spaced in t from σ_max to σ_min (np.linspace, float64), then shifted.
    const hi = this.#sigmaMax * n;
    const lo = this.#sigmaMin * n;
    let sigmas = Array.from({ length: steps }, (_, i) => (steps === 1 ? hi : hi + ((lo - hi) * i) / (steps - 1)) / n);
    sigmas = sigmas.map((s) => (use_dynamic_shifting ? timeShift(opts.mu!, s) : this.#shift(s)));
    if (shift_terminal !== null) {
      // Stretch so that the last σ lands on shift_terminal (LTX-Video's schedule).
      const scale = (1 - sigmas[steps - 1]!) / (1 - shift_terminal);
      sigmas = sigmas.map((s) => 1 - (1 - s) / scale);
    }
    if (opts.startSigma !== undefined) {
      const top = opts.startSigma;
      if (!(top > 0 && top <= 1)) throw new RangeError(`startSigma must be in (0, 1], got ${top}`);
      sigmas = sigmas.map((s) => (s * top) / sigmas[0]!);
    }
    const out = new Float32Array(steps + 1);
    out.set(sigmas);
    const timesteps = new Float32Array(steps);
    for (let i = 0; i < steps; i++) timesteps[i] = out[i]! * n;
    return { timesteps, sigmas: out, index: begin };
  }

  /**
   * One Euler step for one row: `sample` ← sample + (σ_next − σ)·prediction, written into `out`
   * (a new array by default; `sample` itself to update in place). Advances the state.
   */
  step(state: FlowMatchState, prediction: Float32Array, sample: Float32Array, out = new Float32Array(sample.length)): Float32Array {
    if (state.index >= state.timesteps.length) throw new RangeError('the schedule is already finished');
    if (prediction.length !== sample.length || out.length !== sample.length) throw new RangeError('prediction, sample and out differ in length');
    const dt = Math.fround(state.sigmas[state.index + 1]! - state.sigmas[state.index]!);
    for (let i = 0; i < sample.length; i++) out[i] = sample[i]! + dt * prediction[i]!;
    state.index++;
    return out;
  }

  #shift(s: number): number {
    const k = this.config.shift;
    return (k * s) / (1 + (k - 1) * s);
  }
}

/** Resolution-dependent shift (diffusers' calculate_shift): linear in the latent sequence length. */
export function calculateShift(config: FlowMatchEulerConfig, sequenceLength: number): number {
  const m = (config.max_shift - config.base_shift) / (config.max_image_seq_len - config.base_image_seq_len);
  return config.base_shift + m * (sequenceLength - config.base_image_seq_len);
}

function timeShift(mu: number, s: number): number {
  return Math.exp(mu) / (Math.exp(mu) + (1 / s - 1));
}

/**
 * The flow-matching forward process at σ: σ·noise + (1 − σ)·sample. Starting a schedule part
 * way (from a draft's latents, say) begins from this.
 */
export function scaleNoise(sample: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = sigma * noise[i]! + (1 - sigma) * sample[i]!;
  return out;
}
