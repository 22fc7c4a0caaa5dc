import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ModelRegistry } from './model-registry.js';
import { Tokenizer } from './tokenizer.js';

const MODELS = path.join(import.meta.dirname, '../../../models');
// the default model (config's CLICKVID_MODEL), whose text encoder was trained on paraphrases
const PARAPHRASE_MODEL = loadConfig({}).model.name;
const shipped = ModelRegistry.load(MODELS, PARAPHRASE_MODEL);
const tok = shipped.tokenizer;

describe(`Tokenizer (the ${PARAPHRASE_MODEL} manifest)`, () => {
  it('gives the token ids the model was trained with (tokenizer-cases.json, written by train_text.py)', () => {
    const cases = JSON.parse(readFileSync(path.join(MODELS, PARAPHRASE_MODEL, 'tokenizer-cases.json'), 'utf8')) as { prompt: string; tokens: number[]; words: string[] }[];
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      const e = tok.encode(c.prompt);
      expect({ prompt: c.prompt, ids: e.ids, words: e.words }).toEqual({ prompt: c.prompt, ids: c.tokens, words: c.words });
    }
  });

  it('never flags a word it accepts: function words, vocabulary and every alias, in every shipped model', () => {
    expect(shipped.manifest.text.aliases).toMatchObject({ backdrop: 'background', balls: 'circle', 2: 'two', rising: 'up' });
    for (const name of new Set(['clickvid-shapes', 'clickvid-shapes-2.1', PARAPHRASE_MODEL])) {
      const r = ModelRegistry.load(MODELS, name);
      const { vocabulary, aliases } = r.manifest.text;
      const accepted = [...vocabulary.filter((w) => !w.startsWith('<')), ...Object.keys(aliases)];
      expect(accepted).toEqual(expect.arrayContaining(['a', 'the', 'grey', 'circles']));
      expect(r.tokenizer.encode(accepted.join(' ')).unknown, name).toEqual([]);
    }
  });

  it('reads synonyms, digits, plurals, case and punctuation into the words it was trained on', () => {
    const e = tok.encode('On a white BACKDROP, 2 grey balls are RISING... please!');
    expect(e.normalized).toBe('on a white background two gray circle are up please');
    expect(e.unknown).toEqual([]);
    expect(e.known).toEqual(['white', 'two', 'gray', 'circle', 'up']);
  });

  it('finds the phrase naming something outside the world, and only that (2.0.0 too)', () => {
    const v2 = ModelRegistry.load(MODELS, 'clickvid-shapes').tokenizer;
    expect(v2.outsideWorld(v2.words('a red cat moving left'))).toBe('red cat');
    const outside = (p: string) => tok.outsideWorld(tok.words(p));
    expect(outside('a cat sleeping on a sofa')).toBe('a cat sleeping');
    expect(outside('a red car driving left')).toBe('red car driving');
    expect(outside('a red circle on a sandy beach')).toBe('a sandy beach');
    expect(outside('two red circles and a blue dog')).toBe('blue dog');
    expect(outside('a glowing red circle moving left')).toBeNull();
    expect(outside('a red glowing circle moving left')).toBeNull();
    expect(outside('a red circle bouncing majestically on a dark blue background')).toBeNull();
    expect(outside('two blue squares moving left on a blue background with stars')).toBeNull();
  });

  it('is built from Maps: a manifest without noun-phrase words never refuses by phrase', () => {
    const t = new Tokenizer({ max_tokens: 4, vocabulary: ['<pad>', '<unk>', 'a', 'circle'], aliases: { circles: 'circle' }, function_words: ['a'] });
    expect(t.encode('a constructor circles').ids).toEqual([2, 1, 3, 0]);
    expect(t.outsideWorld(['a', 'cat'])).toBeNull();
  });
});
