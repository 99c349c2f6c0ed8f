// The service bundle's entry: scripts/build.mjs copies this file to dist/coldgate.mjs, beside the
// bundle itself (dist/coldgate.cjs), which it runs through V8's code cache when it has a folder
// for one: $COLDGATE_CODE_CACHE, or systemd's $CACHE_DIRECTORY (CacheDirectory= in the unit).
// V8 then skips parsing and compiling what the last start compiled, about 0.1 s of a 0.55 s start
// on the bench host. Node 22 has this built in (module.enableCompileCache); Node 20 does not, and
// only for a script (vm.Script's cachedData), hence a CommonJS bundle.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/** Long enough for a start to have compiled what a gateway runs: the cache then holds that too. */
const WRITE_AFTER_MS = 10_000;
const DIGEST_BYTES = 32;

const bundle = fileURLToPath(import.meta.url).replace(/\.mjs$/, '.cjs');
const dir = process.env.COLDGATE_CODE_CACHE || process.env.CACHE_DIRECTORY;
const sha256 = (data) => createHash('sha256').update(data).digest();

/** The cache, if it is there and whole: a file cut short by a power loss would otherwise reach V8. */
function readCache(file) {
  try {
    const data = readFileSync(file);
    const payload = data.subarray(DIGEST_BYTES);
    return data.length > DIGEST_BYTES && sha256(payload).equals(data.subarray(0, DIGEST_BYTES)) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all; caches of other bundles (an update) are removed. Any failure leaves things as they were: the next start compiles. */
function writeCache(file, sourceKey, payload) {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([sha256(payload), payload]), { mode: 0o600 });
    renameSync(tmp, file);
    for (const name of readdirSync(dir)) if (/^coldgate-[0-9a-f]+-[0-9a-f]+\.v8cache$/.test(name) && !name.startsWith(`coldgate-${sourceKey}-`)) rmSync(path.join(dir, name), { force: true });
  } catch {
    // A read-only or full disk: no cache, as without a folder.
  }
}

/**
 * The bundle's function, compiled with the cache if there is one. In a function of its own so that
 * neither the source text nor the cache stays referenced once compiled: V8 keeps the script's own
 * copy of the source.
 */
function compile() {
  const source = readFileSync(bundle, 'utf8');
  // V8 checks only the source's length: the name carries its hash, and the node version and flags
  // (V8 rejects a cache made under others), so that a command run by hand does not evict the service's.
  const sourceKey = sha256(source).toString('hex').slice(0, 16);
  const runKey = sha256([process.version, process.execArgv.join(' '), process.env.NODE_OPTIONS ?? ''].join('\0')).toString('hex').slice(0, 8);
  const file = dir && path.join(dir, `coldgate-${sourceKey}-${runKey}.v8cache`);
  const cachedData = file ? readCache(file) : undefined;
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (file && (cachedData === undefined || script.cachedDataRejected)) setTimeout(() => writeCache(file, sourceKey, script.createCachedData()), WRITE_AFTER_MS).unref();
  return script.runInThisContext();
}

// Node 20 calls the main-context loader (the bundle's import() of aedes and pg) experimental and
// says so once on stderr; a function instead would need --experimental-vm-modules. The line
// tells whoever reads a box's log nothing, so this one warning is dropped.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  if (String(warning?.message ?? warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
  return emitWarning.call(this, warning, ...rest);
};

const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
compile().call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
