/**
 * Text embeddings by (text encoder sha256, tokenizer, normalized prompt), least recently used
 * first out, bounded in bytes: a prompt iterated on as drafts and then promoted is encoded once.
 */
export class EmbeddingCache {
  readonly #max: number;
  readonly #map = new Map<string, Float32Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): Float32Array | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      // Map order is insertion order: re-insert to mark it recently used.
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, value: Float32Array): void {
    if (value.byteLength > this.#max) return;
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      this.#bytes -= old.byteLength;
    }
    this.#map.set(key, value);
    this.#bytes += value.byteLength;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= v.byteLength;
    }
  }
}
