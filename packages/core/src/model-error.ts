import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Why a model cannot serve a request: its files, a prompt it cannot draw, or a parameter it does not support. */
export class ModelError extends Error {
  constructor(
    readonly code: 'model_unavailable' | 'prompt_not_understood' | 'unsupported_parameter',
    message: string,
    readonly param?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
