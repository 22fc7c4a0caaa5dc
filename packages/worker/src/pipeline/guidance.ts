/**
 * Classifier-free guidance: uncond + s·(cond − uncond), written into `out` (a new array by
 * default). At s = 1 this is cond, which is why a caller leaves the uncond row out then.
 */
export function classifierFreeGuidance(uncond: Float32Array, cond: Float32Array, scale: number, out = new Float32Array(cond.length)): Float32Array {
  if (uncond.length !== cond.length || out.length !== cond.length) throw new RangeError('uncond, cond and out differ in length');
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}

/** Whether a row at this scale needs an unconditional row beside it. */
export function needsUncond(scale: number): boolean {
  return scale !== 1;
}
