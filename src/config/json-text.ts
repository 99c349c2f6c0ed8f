/**
 * JSON as people save it: a leading byte order mark (Notepad, some Windows editors) is dropped,
 * and a syntax error says line and column but never quotes the text, which may hold a password
 * (V8's own message does: `Unexpected token 'h', ..."password": hunter2}" is not valid JSON`).
 */
export class JsonTextError extends Error {
  override name = 'JsonTextError';
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`not valid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function parseJsonText(text: string): unknown {
  const body = stripBom(text);
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const offset = positionOf(message) ?? (/end of JSON input/.test(message) ? body.length : firstBadOffset(body));
    const upTo = body.slice(0, offset);
    const line = upTo.split('\n').length;
    throw new JsonTextError(line, offset - upTo.lastIndexOf('\n'), reasonOf(message));
  }
}

function positionOf(message: string): number | undefined {
  const at = / at position (\d+)/.exec(message)?.[1];
  return at === undefined ? undefined : Number(at);
}

/** V8's reason without its quote of the text: `Expected ',' or '}' after property value`. */
function reasonOf(message: string): string {
  if (/^Unexpected token|is not valid JSON$/.test(message)) return 'unexpected character';
  const reason = message.replace(/ (in JSON )?at position \d+[\s\S]*$/, '');
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

/** Does this prefix fail before its end, i.e. not only because the document goes on? */
function failsInside(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = (err as Error).message;
    if (/end of JSON input/.test(message)) return false;
    const at = positionOf(message);
    return at === undefined || at < prefix.length;
  }
}

/**
 * Where a message without a position went wrong: the shortest prefix that fails before its end
 * ends just after the bad character (a longer prefix fails there too, a shorter one does not).
 * `{"a":tru}` -> 8, the `}`.
 */
function firstBadOffset(text: string): number {
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsInside(text.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}
