import { FlowMatchEulerConfig } from '@clickvid/core';
import { describe, expect, it } from 'vitest';
import { calculateShift, FlowMatchEulerScheduler, scaleNoise } from './flow-match-euler.js';
import { classifierFreeGuidance, needsUncond } from './guidance.js';

const config = (c: object) => FlowMatchEulerConfig.parse({ _class_name: 'FlowMatchEulerDiscreteScheduler', ...c });

/**
 * Reference values from a numpy reimplementation of diffusers' FlowMatchEulerDiscreteScheduler
 * __init__ / set_timesteps / step (float32 where diffusers holds float32), run with Debian's
 * python3-numpy; flow-match-euler.reference.py beside this file prints them.
 */
const REFERENCE = {
  shift3x8: {
    timesteps: [1000.0, 947.5425415039062, 882.7877807617188, 800.8373413085938, 693.7930908203125, 548.0455932617188, 337.97216796875, 8.928571701049805],
    sigmas: [1.0, 0.9475425481796265, 0.8827877640724182, 0.8008373379707336, 0.6937931180000305, 0.5480455756187439, 0.33797216415405273, 0.008928571827709675, 0.0],
  },
  plain4: { timesteps: [1000.0, 667.0, 334.0, 1.0], sigmas: [1.0, 0.6669999957084656, 0.33399999141693115, 0.0010000000474974513, 0.0] },
  dyn6: {
    timesteps: [1000.0, 911.9391479492188, 795.293212890625, 633.4472045898438, 393.8155212402344, 2.581616163253784],
    sigmas: [1.0, 0.9119391441345215, 0.7952932119369507, 0.6334472298622131, 0.3938155174255371, 0.0025816161651164293, 0.0],
  },
  terminal5: {
    timesteps: [1000.0, 871.2084350585938, 699.6006469726562, 459.5689392089844, 100.0],
    sigmas: [1.0, 0.8712084293365479, 0.6996006369590759, 0.45956894755363464, 0.10000000149011612, 0.0],
  },
  step2: [0.4882787764072418, -1.2734425067901611, 2.035163640975952],
};

function expectClose(actual: Float32Array, expected: number[]) {
  expect(actual.length).toBe(expected.length);
  // float32 rounding of the same formulas in a different order: a few ulps.
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[i]!))));
}

describe('FlowMatchEulerScheduler', () => {
  it('a refine schedule (startSigma) runs the same shape from that σ to 0', () => {
    const s = new FlowMatchEulerScheduler(config({ shift: 3 }));
    const full = s.start(8);
    const refine = s.start(8, { startSigma: 0.6 });
    expect(refine.sigmas[0]).toBeCloseTo(0.6, 6);
    expect(refine.sigmas[8]).toBe(0);
    refine.sigmas.forEach((sg, i) => expect(sg).toBeCloseTo(0.6 * full.sigmas[i]!, 6));
    expect(refine.timesteps[0]).toBeCloseTo(600, 3);
    expect(() => s.start(4, { startSigma: 0 })).toThrow(RangeError);
  });

  it('sets timesteps and sigmas as diffusers does: shifted, plain, dynamic and stretched to a terminal σ', () => {
    const cases = [
      [config({ shift: 3 }), 8, undefined, REFERENCE.shift3x8],
      [config({}), 4, undefined, REFERENCE.plain4],
      [config({ use_dynamic_shifting: true }), 6, 0.95, REFERENCE.dyn6],
      [config({ shift: 2, shift_terminal: 0.1 }), 5, undefined, REFERENCE.terminal5],
    ] as const;
    for (const [cfg, steps, mu, ref] of cases) {
      const state = new FlowMatchEulerScheduler(cfg).start(steps, { mu });
      expectClose(state.timesteps, ref.timesteps);
      expectClose(state.sigmas, ref.sigmas);
    }
  });

  it('steps x ← x + (σ_next − σ)·v, each job with its own state', () => {
    const s = new FlowMatchEulerScheduler(config({ shift: 3 }));
    const a = s.start(8);
    const b = s.start(8);
    const v = new Float32Array([0.1, 0.2, -0.3]);
    let x: Float32Array = new Float32Array([0.5, -1.25, 2.0]);
    x = s.step(a, v, x);
    // Another job's step in between leaves this job's schedule alone.
    s.step(b, v, new Float32Array(3));
    s.step(b, v, new Float32Array(3));
    x = s.step(a, v, x);
    expectClose(x, REFERENCE.step2);
    expect([a.index, b.index]).toEqual([2, 2]);
  });

  it('refuses to step past the end or without the dynamic shift it needs', () => {
    const s = new FlowMatchEulerScheduler(config({}));
    const st = s.start(1);
    s.step(st, new Float32Array(1), new Float32Array(1));
    expect(() => s.step(st, new Float32Array(1), new Float32Array(1))).toThrow(/already finished/);
    expect(() => new FlowMatchEulerScheduler(config({ use_dynamic_shifting: true })).start(4)).toThrow(/pass mu/);
  });

  it('can begin part way, on the same schedule', () => {
    const s = new FlowMatchEulerScheduler(config({ shift: 3 }));
    const st = s.start(8, { begin: 5 });
    expect(st.index).toBe(5);
    expectClose(st.sigmas, REFERENCE.shift3x8.sigmas);
    expect(() => s.start(8, { begin: 8 })).toThrow(/begin must be a step in \[0, 8\)/);
  });

  it('computes the resolution shift and the forward process', () => {
    const cfg = config({ use_dynamic_shifting: true });
    expect(calculateShift(cfg, 256)).toBeCloseTo(0.5, 12);
    expect(calculateShift(cfg, 4096)).toBeCloseTo(1.15, 12);
    expect(Array.from(scaleNoise(new Float32Array([1, 2]), new Float32Array([-1, 0]), 0.25))).toEqual([0.5, 1.5]);
  });
});

describe('classifier-free guidance', () => {
  it('is uncond + s·(cond − uncond), and cond alone at s = 1', () => {
    const u = new Float32Array([1, 2, 3]);
    const c = new Float32Array([2, 2, 1]);
    expect(Array.from(classifierFreeGuidance(u, c, 3))).toEqual([4, 2, -3]);
    expect(Array.from(classifierFreeGuidance(u, c, 1))).toEqual([2, 2, 1]);
    expect([needsUncond(1), needsUncond(4.5)]).toEqual([false, true]);
  });
});
