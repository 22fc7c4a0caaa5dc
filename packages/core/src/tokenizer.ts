/**
 * The model's tokenizer, from its manifest's `text` section: the one implementation the server,
 * the worker, models/clickvid-shapes/eval.mjs and bench/ use. The model's training code
 * (models/clickvid-shapes/world.py) does the same steps; models/clickvid-shapes/tokenizer-cases.json
 * pins the two together (tokenizer.test.ts).
 *
 * Steps: lower case, split on anything not a-z0-9, map each word through `aliases`, look it up in
 * `vocabulary` (else <unk>, id 1), keep the first `max_tokens`, pad with 0.
 *
 * Dependency-free on purpose (types only), so that plain .mjs scripts can import its build.
 */

export interface TextSpec {
  max_tokens: number;
  vocabulary: string[];
  aliases: Record<string, string>;
  function_words: string[];
  scene?: {
    count_words: Record<string, number>;
    object_words: string[];
    /** Words that open or extend a noun phrase (counts, colours, sizes); see {@link Tokenizer.outsideWorld}. */
    noun_phrase_words?: string[] | undefined;
  } | undefined;
}

export interface Tokens {
  /** Token ids, padded to max_tokens. */
  ids: number[];
  /** The prompt's words, lower-cased and aliased (all of them, also those past max_tokens). */
  words: string[];
  /** Known content words, in prompt order. */
  known: string[];
  /** Words the model does not know, in prompt order. */
  unknown: string[];
  /** Lower-cased, aliased, single-spaced. */
  normalized: string;
}

const UNK = 1;

export class Tokenizer {
  // Maps, not plain objects: prompt words are user input, and a plain object answers
  // "constructor" or "__proto__" with Object.prototype's members.
  private readonly ids: ReadonlyMap<string, number>;
  private readonly aliases: ReadonlyMap<string, string>;
  private readonly functionWords: ReadonlySet<string>;
  private readonly objectWords: ReadonlySet<string>;
  private readonly nounPhraseWords: ReadonlySet<string>;

  constructor(readonly text: TextSpec) {
    this.ids = new Map(text.vocabulary.map((w, i) => [w, i]));
    this.aliases = new Map(Object.entries(text.aliases));
    this.functionWords = new Set(text.function_words);
    this.objectWords = new Set(text.scene?.object_words ?? []);
    this.nounPhraseWords = new Set(text.scene?.noun_phrase_words ?? []);
  }

  /** Words as the model sees them: lower case, split on anything not a-z0-9, aliased. */
  words(prompt: string): string[] {
    return prompt
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean)
      .map((w) => this.aliases.get(w) ?? w);
  }

  isKnown(word: string): boolean {
    return this.ids.has(word);
  }

  /** Content words: those that carry meaning for the model, for hints and /v1/models. */
  contentWords(): string[] {
    return this.text.vocabulary.filter((w) => !w.startsWith('<') && !this.functionWords.has(w));
  }

  encode(prompt: string): Tokens {
    const words = this.words(prompt);
    const ids: number[] = new Array<number>(this.text.max_tokens).fill(0);
    const known: string[] = [];
    const unknown: string[] = [];
    words.forEach((w, i) => {
      const id = this.ids.get(w);
      if (id === undefined) unknown.push(w);
      else if (!this.functionWords.has(w)) known.push(w);
      if (i < ids.length) ids[i] = id ?? UNK;
    });
    return { ids, words, known, unknown, normalized: words.join(' ') };
  }

  /**
   * The phrase of a prompt that names an object or a scene outside the model's world, or null:
   * an unknown word right after a word that opens or extends a noun phrase ("a", "two", "red",
   * "big"), in a phrase that names no shape ("a cat", "a red car", "on a sandy beach"). Such a
   * prompt is refused rather than drawn as an unrelated clip. An unknown word that only
   * qualifies a shape ("a glowing red circle", "a red glowing circle") is not one.
   */
  outsideWorld(words: string[]): string | null {
    if (!this.nounPhraseWords.size) return null;
    for (let i = 0; i < words.length; i++) {
      if (this.ids.has(words[i]!)) continue;
      let j = i - 1;
      while (j >= 0 && !this.ids.has(words[j]!)) j--;
      if (j < 0 || !this.nounPhraseWords.has(words[j]!)) continue;
      let k = i + 1;
      while (k < words.length && !this.ids.has(words[k]!)) k++;
      const next = words[k];
      if (next !== undefined && (this.objectWords.has(next) || this.nounPhraseWords.has(next))) continue;
      return words.slice(j, k).join(' ');
    }
    return null;
  }
}
