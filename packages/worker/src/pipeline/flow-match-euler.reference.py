# Tiny numpy reimplementation of diffusers' FlowMatchEulerDiscreteScheduler (__init__, set_timesteps, step).
import numpy as np, math, json
def make(N=1000, shift=1.0, dyn=False, terminal=None):
    t = np.linspace(1, N, N, dtype=np.float32)[::-1].copy()
    s = (t / N).astype(np.float32)
    if not dyn: s = (shift * s / (1 + (shift - 1) * s)).astype(np.float32)
    return dict(N=N, shift=shift, dyn=dyn, terminal=terminal, smin=float(s[-1]), smax=float(s[0]))
def set_timesteps(c, n, mu=None):
    ts = np.linspace(c['smax'] * c['N'], c['smin'] * c['N'], n)
    s = ts / c['N']
    if c['dyn']: s = math.exp(mu) / (math.exp(mu) + (1 / s - 1) ** 1.0)
    else: s = c['shift'] * s / (1 + (c['shift'] - 1) * s)
    if c['terminal']:
        omz = 1 - s; sf = omz[-1] / (1 - c['terminal']); s = 1 - omz / sf
    s = s.astype(np.float32)
    timesteps = (s * np.float32(c['N'])).astype(np.float32)
    return timesteps, np.concatenate([s, np.zeros(1, np.float32)])
out = {}
for name, c, n, mu in [('shift3x8', make(shift=3.0), 8, None), ('plain4', make(), 4, None), ('dyn6', make(dyn=True), 6, 0.95), ('terminal5', make(shift=2.0, terminal=0.1), 5, None)]:
    ts, s = set_timesteps(c, n, mu)
    out[name] = dict(timesteps=[float(x) for x in ts], sigmas=[float(x) for x in s])
# Two Euler steps of shift3x8 on a fixed sample and model output.
ts, s = set_timesteps(make(shift=3.0), 8)
x = np.array([0.5, -1.25, 2.0], np.float32); v = np.array([0.1, 0.2, -0.3], np.float32)
for i in range(2): x = (x + (s[i + 1] - s[i]) * v).astype(np.float32)
out['step2'] = [float(a) for a in x]
print(json.dumps(out))
