import { z } from 'zod';

export const AssetKind = z.enum(['video', 'poster']);
export type AssetKind = z.infer<typeof AssetKind>;

export const Asset = z.object({
  id: z.string(),
  object: z.literal('asset'),
  job_id: z.string(),
  kind: AssetKind,
  content_type: z.string(),
  bytes: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  frames: z.number().int().nullable(),
  duration_s: z.number().nullable(),
  sha256: z.string(),
  /** Signed, short-lived; fetch a new one with GET /v1/assets/{id} when it expires. */
  url: z.string(),
  expires_at: z.string(),
  created_at: z.string(),
});
export type Asset = z.infer<typeof Asset>;

/** GET /v1/assets/{id}: `download=1` signs a URL that answers with `Content-Disposition: attachment`. */
export const AssetRetrieveQuery = z.object({
  download: z.enum(['0', '1']).optional(),
});
export type AssetRetrieveQuery = z.infer<typeof AssetRetrieveQuery>;
