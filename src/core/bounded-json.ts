/** Deeper than any config or command body coldgate defines (a config is about 6 levels). */
export const MAX_JSON_DEPTH = 64;

/** Why a text is not accepted as JSON: a predicate for the caller to name its subject, e.g. `payload ${err.message}`. */
export class JsonBoundError extends Error {}

/**
 * The nesting depth of a JSON text, counted without recursion: `[[1],{"a":[2]}]` -> 3.
 * Brackets inside strings do not count. Invalid JSON is for JSON.parse to report.
 */
function depthOf(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * JSON.parse with a nesting bound: a body nested thousands of levels deep would otherwise end in
 * "Maximum call stack size exceeded" in whatever walks it next (validation, cloning).
 * Throws JsonBoundError with `is nested deeper than 64 levels` or `is not valid JSON: Unexpected token ...`.
 */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (depthOf(text, maxDepth) > maxDepth) throw new JsonBoundError(`is nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonBoundError(`is not valid JSON: ${(err as Error).message}`);
  }
}
