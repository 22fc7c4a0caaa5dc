/** Our word-level tokenizer: lower case, split on anything not a-z0-9, aliased, looked up, padded. */
export interface WordTokenizerSpec {
  max_tokens: number;
  vocabulary: readonly string[];
  aliases: Readonly<Record<string, string>>;
  function_words: readonly string[];
}

export interface WordEncoding {
  /** Token ids, padded with 0 (`<pad>`) to max_tokens; unknown words are 1 (`<unk>`). */
  tokens: BigInt64Array;
  /** Known content words, in prompt order. */
  known: string[];
  /** Words the model does not know (reported to the user as warnings). */
  unknown: string[];
  /** The prompt's words, lower-cased and aliased (all of them, also those past max_tokens). */
  words: string[];
  /** Lower-cased, aliased, single-spaced: part of the output-cache key. */
  normalized: string;
}

/** One tokenizer for the server's checks, the worker's inputs and the unconditional prompt. */
export class WordTokenizer {
  readonly vocabulary: ReadonlyMap<string, number>;
  // Maps, not the manifest's plain objects: a prompt word such as "constructor" must not find Object.prototype.
  readonly #aliases: ReadonlyMap<string, string>;
  readonly #functionWords: ReadonlySet<string>;

  constructor(readonly spec: WordTokenizerSpec) {
    this.vocabulary = new Map(spec.vocabulary.map((w, i) => [w, i]));
    this.#aliases = new Map(Object.entries(spec.aliases));
    this.#functionWords = new Set(spec.function_words);
  }

  words(prompt: string): string[] {
    return prompt
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean)
      .map((w) => this.#aliases.get(w) ?? w);
  }

  encode(prompt: string): WordEncoding {
    const words = this.words(prompt);
    const tokens = new BigInt64Array(this.spec.max_tokens);
    const known: string[] = [];
    const unknown: string[] = [];
    words.forEach((w, i) => {
      const id = this.vocabulary.get(w);
      if (id === undefined) unknown.push(w);
      else if (!this.#functionWords.has(w)) known.push(w);
      if (i < tokens.length) tokens[i] = BigInt(id ?? 1);
    });
    return { tokens, known, unknown, words, normalized: words.join(' ') };
  }

  /** Words that carry meaning for the model, for hints and /v1/models. */
  contentWords(): string[] {
    return this.spec.vocabulary.filter((w) => !w.startsWith('<') && !this.#functionWords.has(w));
  }
}
