import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClickvidError } from '@clickvid/sdk';
import type { Manifest } from './manifest.js';
import type { PlannedRow } from './plan.js';

export const STATE_FILE = '.clickvid-batch.json';

/** pending → submitted → downloaded | failed; skipped = never submitted (budget). */
export type RowStatus = 'pending' | 'submitted' | 'downloaded' | 'failed' | 'skipped';

export interface RowState {
  index: number;
  name: string;
  file: string;
  idempotency_key: string;
  status: RowStatus;
  job_id: string | null;
  bytes: number | null;
  gpu_seconds: number | null;
  credits: number | null;
  /** Seconds from submit (or re-attach) to downloaded. */
  seconds: number | null;
  error: { code: string; message: string } | null;
}

export interface BatchState {
  version: 1;
  manifest: { path: string; sha256: string };
  created_at: string;
  updated_at: string;
  rows: RowState[];
}

/**
 * `<out-dir>/.clickvid-batch.json`: the batch's progress, rewritten atomically
 * (temp file + rename) after every change, so a crash at any point leaves
 * either the previous or the next state, never half of one.
 */
export class StateFile {
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, readonly state: BatchState) {}

  /**
   * With `resume`, load the previous state (refusing one made from another
   * manifest) and keep what it knows of each row; without, start over.
   */
  static async open(outDir: string, manifest: Manifest, plan: PlannedRow[], resume: boolean): Promise<StateFile> {
    await mkdir(outDir, { recursive: true });
    const path = join(outDir, STATE_FILE);
    const previous = resume ? await load(path) : undefined;
    if (previous && previous.manifest.sha256 !== manifest.sha256) {
      throw new ClickvidError(
        `${path} belongs to another version of the manifest (sha256 ${previous.manifest.sha256.slice(0, 12)}…); re-run without --resume or use another --out-dir.`,
        { code: 'manifest_changed' },
      );
    }
    const now = new Date().toISOString();
    const rows = plan.map((p): RowState => {
      const old = previous?.rows.find((r) => r.index === p.index);
      return old ?? {
        index: p.index, name: p.name, file: p.file, idempotency_key: p.idempotencyKey, status: 'pending',
        job_id: null, bytes: null, gpu_seconds: null, credits: null, seconds: null, error: null,
      };
    });
    const file = new StateFile(path, {
      version: 1,
      manifest: { path: manifest.path, sha256: manifest.sha256 },
      created_at: previous?.created_at ?? now,
      updated_at: now,
      rows,
    });
    await file.save();
    return file;
  }

  row(index: number): RowState {
    return this.state.rows[index]!;
  }

  /** Change one row and persist. Writes are queued so they land in order. */
  update(index: number, patch: Partial<RowState>): Promise<void> {
    Object.assign(this.state.rows[index]!, patch);
    return this.save();
  }

  private save(): Promise<void> {
    this.state.updated_at = new Date().toISOString();
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    // Chain on the previous write even if it failed: each write carries the whole state.
    this.writing = this.writing.catch(() => {}).then(() => atomicWrite(this.path, text));
    return this.writing;
  }
}

export async function atomicWrite(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

async function load(path: string): Promise<BatchState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as BatchState;
    if (state.version !== 1 || !Array.isArray(state.rows)) throw new Error('unknown version');
    return state;
  } catch (cause) {
    throw new ClickvidError(`${path} is not a clickvid batch state file.`, { code: 'invalid_state', cause });
  }
}
