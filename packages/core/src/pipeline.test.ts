import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrames, latentShape, loadPipeline, snapFrames, tensorFor, verifyPipelineFile } from './pipeline.js';
import { Tokenizer } from './tokenizer.js';

const MODELS = path.join(import.meta.dirname, '../../../models');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A pipeline-form model folder in optimum's layout; the "onnx" files only need to hash right. */
function toyPipeline(edit: (m: any, files: Map<string, Buffer>) => void = () => {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-pipeline-'));
  const files = new Map<string, Buffer>([
    ['text_encoder/model.onnx', Buffer.from('te')],
    ['transformer/model.onnx', Buffer.from('dit')],
    ['vae_decoder/model.onnx', Buffer.from('vae')],
    ['scheduler/scheduler_config.json', Buffer.from(JSON.stringify({ _class_name: 'FlowMatchEulerDiscreteScheduler', _diffusers_version: '0.32.0', num_train_timesteps: 1000, shift: 3 }))],
  ]);
  const ref = (f: string) => ({ file: f, sha256: sha(files.get(f)!), bytes: files.get(f)!.length });
  const tier = { denoiser: 'fp32', steps: 4, guidance_scale: 1, width: 64, height: 32, frames: 9, max_frames: 17, fps: 8, max_batch: 8 };
  const manifest: any = {
    format: 'pipeline',
    id: 'toy',
    version: '0.1.0',
    tokenizer: { type: 'words', max_tokens: 8, vocabulary: ['<pad>', '<unk>', 'red', 'circle'] },
    components: {
      text_encoder: {
        ...ref('text_encoder/model.onnx'),
        inputs: [{ name: 'input_ids', role: 'token_ids', dtype: 'int64', shape: ['batch', 'tokens'] }],
        outputs: [{ name: 'last_hidden_state', role: 'text_embeddings', dtype: 'float32', shape: ['batch', 'tokens', 32] }],
      },
      denoiser: {
        prediction: 'velocity',
        variants: { fp32: { ...ref('transformer/model.onnx'), precision: 'fp32' } },
        inputs: [
          { name: 'hidden_states', role: 'latents', dtype: 'float32', shape: ['batch', 'channels', 'frames', 'height', 'width'] },
          { name: 'timestep', role: 'timestep', dtype: 'float32', shape: ['batch'] },
          { name: 'encoder_hidden_states', role: 'text_embeddings', dtype: 'float32', shape: ['batch', 'tokens', 32] },
        ],
        outputs: [{ name: 'sample', role: 'prediction', dtype: 'float32', shape: ['batch', 'channels', 'frames', 'height', 'width'] }],
      },
      decoder: {
        ...ref('vae_decoder/model.onnx'),
        chunk: { axis: 'frames', max_latent_frames: 2 },
        video: { layout: 'bcfhw', range: [-1, 1] },
        inputs: [{ name: 'latent_sample', role: 'latents', dtype: 'float32', shape: ['batch', 'channels', 'frames', 'height', 'width'] }],
        outputs: [{ name: 'sample', role: 'video', dtype: 'float32', shape: ['batch', 3, 'video_frames', 'video_height', 'video_width'] }],
      },
    },
    latent: { channels: 4, temporal_compression: 4, spatial_compression: 8, frames: { multiple_of: 4, plus: 1 }, noise: { generator: 'mulberry32', distribution: 'normal' } },
    scheduler: { type: 'flow_match_euler', ...ref('scheduler/scheduler_config.json') },
    guidance: { mode: 'cfg', unconditional_prompt: '' },
    tiers: { draft: tier, standard: tier, final: { ...tier, steps: 12, guidance_scale: 3 } },
  };
  edit(manifest, files);
  for (const [f, b] of files) {
    mkdirSync(path.dirname(path.join(dir, 'toy', f)), { recursive: true });
    writeFileSync(path.join(dir, 'toy', f), b);
  }
  writeFileSync(path.join(dir, 'toy', 'manifest.json'), JSON.stringify(manifest));
  return () => loadPipeline(dir, 'toy');
}

describe('pipeline manifests', () => {
  it('loads the shipped single-graph model as a pipeline of one stage', () => {
    const p = loadPipeline(MODELS, 'clickvid-shapes');
    expect(p.form).toBe('graph');
    expect(p.textEncoder).toBeNull();
    expect(p.denoiser).toBeNull();
    expect(p.decoder.inputs.map((t) => [t.name, t.role])).toEqual([['tokens', 'token_ids'], ['noise', 'noise'], ['times', 'frame_times']]);
    expect(tensorFor(p.decoder, 'outputs', 'video')).toMatchObject({ name: 'video', dtype: 'uint8', shape: ['batch', 'video_frames', 'video_height', 'video_width', 3] });
    expect(p.tiers.draft).toMatchObject({ steps: 0, width: 128, height: 128, frames: 16, fps: 8, maxBatch: 8, variants: { decoder: 'int8-128' } });
    expect(p.decoder.variants.get('fp32-256')?.sha256).toBe('5a12e562313a9bb27176f1ba0037e8367423bfccee07d65a3d9f1cb50dc3fd9a');
    expect(p.graphNoise).toEqual({ dim: 8, distribution: 'uniform' });
  });

  it('reads the pipeline form: components by role, scheduler config, latent shape per tier', () => {
    const p = toyPipeline()();
    expect(p.form).toBe('pipeline');
    expect(tensorFor(p.denoiser!, 'inputs', 'timestep').name).toBe('timestep');
    expect(p.scheduler).toMatchObject({ num_train_timesteps: 1000, shift: 3, use_dynamic_shifting: false, shift_terminal: null });
    // 9 frames at 4× temporal compression: 1 + 2 latent frames; 64×32 px at 8×: 8×4 cells.
    expect(p.tiers.draft.latentShape).toEqual([4, 3, 4, 8]);
    expect(p.tiers.final).toMatchObject({ steps: 12, guidanceScale: 3, variants: { denoiser: 'fp32' } });
    expect(p.decoder).toMatchObject({ chunkable: true, maxChunkFrames: 2 });
    expect(p.guidance).toEqual({ mode: 'cfg', unconditionalPrompt: '' });
    expect([1, 2, 5, 6, 9, 10].map((f) => snapFrames(p.latent!, f))).toEqual([1, 5, 5, 9, 9, 13]);
  });

  it('refuses frame counts off the rule, unknown variants and missing roles, naming them', () => {
    expect(toyPipeline((m) => (m.tiers.draft.frames = 8))).toThrow(/8 frames breaks the rule 4k\+1/);
    expect(toyPipeline((m) => (m.tiers.final.denoiser = 'int8'))).toThrow(/unknown denoiser variant int8/);
    expect(toyPipeline((m) => (m.components.denoiser.inputs[1].role = 'noise'))).toThrow(/needs an input with role timestep/);
    expect(toyPipeline((m) => (m.components.decoder.file = '../elsewhere.onnx'))).toThrow(/inside the model folder/);
    expect(toyPipeline((m) => (m.guidance.mode = 'embedded'))).toThrow(/guidance_scale input goes with guidance mode "embedded"/);
  });

  it('refuses a scheduler config it would misread, and one whose hash is off', () => {
    const withConfig = (cfg: object, rehash = true) =>
      toyPipeline((m, files) => {
        const b = Buffer.from(JSON.stringify({ _class_name: 'FlowMatchEulerDiscreteScheduler', ...cfg }));
        files.set('scheduler/scheduler_config.json', b);
        if (rehash) Object.assign(m.scheduler, { sha256: sha(b), bytes: b.length });
      });
    expect(withConfig({ use_karras_sigmas: true })).toThrow(/use_karras_sigmas/);
    expect(withConfig({ invert_sigmas: true })).toThrow(/invert_sigmas/);
    expect(withConfig({ _class_name: 'UniPCMultistepScheduler' })).toThrow(/_class_name/);
    expect(withConfig({ shift: 5 }, false)).toThrow(/scheduler_config.json: sha256 \w+ does not match the manifest/);
  });

  it('loads the random-weight fixture, whose files all match their hashes', async () => {
    const p = loadPipeline(MODELS, 'pipeline-fixture');
    expect(p.form).toBe('pipeline');
    expect(p.tiers.draft.latentShape).toEqual([16, 2, 4, 4]);
    expect(p.tiers.final.latentShape).toEqual([16, 4, 8, 8]);
    const files = [p.textEncoder!, p.denoiser!, p.decoder].flatMap((c) => [...c.variants.values()]);
    expect(files.map((f) => f.file)).toEqual(['text_encoder/model.onnx', 'transformer/model.onnx', 'transformer/model_quantized.onnx', 'vae_decoder/model.onnx']);
    expect(p.tiers.draft.variants.denoiser).toBe('int8');
    await Promise.all(files.map(verifyPipelineFile));
  });

  it('loads 3.0.0: a scene latent, one per clip, and a decoder variant per tier', async () => {
    const p = loadPipeline(MODELS, 'clickvid-shapes-3.0');
    expect(p).toMatchObject({ form: 'pipeline', id: 'clickvid-shapes', version: '3.0.0' });
    expect(p.latent).toMatchObject({ layout: 'scene', channels: 83 });
    // Whatever the frames and size, one [83, 1, 1, 1] latent; the decoder is chunked along the video's frames.
    for (const q of ['draft', 'final'] as const) expect(p.tiers[q].latentShape).toEqual([83, 1, 1, 1]);
    expect(latentShape(p.latent!, 144, 256, 256)).toEqual([83, 1, 1, 1]);
    expect(decodeFrames(p.latent!, 72)).toBe(72);
    expect(Object.fromEntries((['draft', 'standard', 'final'] as const).map((q) => [q, p.tiers[q].variants.decoder]))).toEqual({ draft: 'int8-128', standard: 'int8-256', final: 'fp32-256' });
    expect(tensorFor(p.decoder, 'inputs', 'frame_times').name).toBe('frame_times');
    const files = [p.textEncoder!, p.denoiser!, p.decoder].flatMap((c) => [...c.variants.values()]);
    await Promise.all(files.map(verifyPipelineFile));
  });

  it('refuses a scene latent whose decoder takes no frame times, and a tier naming no decoder variant', () => {
    const scene = (m: any) => {
      m.latent = { layout: 'scene', channels: 4, frames: { multiple_of: 1, plus: 0 }, noise: m.latent.noise };
      m.components.decoder.inputs.push({ name: 'times', role: 'frame_times', dtype: 'float32', shape: ['batch', 'video_frames'] });
    };
    expect(toyPipeline(scene)().tiers.final.latentShape).toEqual([4, 1, 1, 1]);
    expect(
      toyPipeline((m) => {
        scene(m);
        m.components.decoder.inputs.pop();
      }),
    ).toThrow(/a scene latent is rendered at frame times/);
    const variants = (m: any) => {
      const { file, sha256, bytes } = m.components.decoder;
      delete m.components.decoder.file;
      m.components.decoder.variants = { 'fp32-64': { file, sha256, bytes, precision: 'fp32' } };
      for (const t of Object.values(m.tiers) as any[]) t.decoder = 'fp32-64';
    };
    expect(toyPipeline(variants)().tiers.draft.variants.decoder).toBe('fp32-64');
    expect(
      toyPipeline((m) => {
        variants(m);
        m.tiers.final.decoder = 'int8-256';
      }),
    ).toThrow(/(?=[\s\S]*names no decoder variant of fp32-64)(?=[\s\S]*tiers\.final\.decoder)/);
    expect(toyPipeline((m) => (m.tiers.draft.decoder = 'fp32-64'))).toThrow(/the decoder has no variants to choose from/);
  });

  it('tokenizes a words tokenizer with core\'s one Tokenizer: aliases and vocabulary by Map', () => {
    const p = loadPipeline(MODELS, 'pipeline-fixture');
    if (p.tokenizer.type !== 'words') throw new Error('the fixture has a words tokenizer');
    const vocab = p.tokenizer.vocabulary;
    expect(new Tokenizer(p.tokenizer).encode('Grey constructor circle').ids.slice(0, 4)).toEqual([vocab.indexOf('white'), 1, vocab.indexOf('circle'), 0]);
  });

  it('checks every component file against its sha256 before use', async () => {
    const p = toyPipeline((_m, files) => files.set('transformer/model.onnx', Buffer.from('tampered')))();
    await expect(verifyPipelineFile(p.textEncoder!.variants.get('default')!)).resolves.toBeUndefined();
    await expect(verifyPipelineFile(p.denoiser!.variants.get('fp32')!)).rejects.toThrow(/transformer\/model.onnx: sha256 \w+ does not match/);
  });
});
