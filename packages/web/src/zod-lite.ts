/**
 * What the contracts and the SDK use of zod's `z`, by name. The bundle maps `zod` to this
 * file (scripts/build.mjs): imported through the `z` namespace, zod brings every locale and
 * its JSON-schema tooling along (~450 kB minified); by name, esbuild keeps only what is used.
 */
import {
  array, boolean, coerce, config, enum as enum_, iso, literal, number, object, record, strictObject, string, unknown, url,
} from 'zod/v4';

export const z = { array, boolean, coerce, enum: enum_, iso, literal, number, object, record, strictObject, string, unknown, url };
export { config };
