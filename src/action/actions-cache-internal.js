// The few modules of @actions/cache that restoring an entry as a stream uses, and the one place
// that reaches past the package's public entry point: the client's own cache-service conversation
// (its twirp client, with its retries and its errors), its service version, its cache-mode rules,
// its cache version and compression rules. So an entry is looked up exactly as restoreCache would
// look it up, and only how its bytes are fetched and what happens to them differ. The dependency
// is pinned to the 6.3 line (package.json); the action's tests fail if a release moves any of these.
// A plain .js file, reached through the "#actions-cache-internal" import of package.json (an
// "imports" target may not name node_modules itself); its types are in the .d.ts beside it.
export { getCacheMode, getCacheServiceVersion, isCacheReadable, isCacheWritable } from '../../node_modules/@actions/cache/lib/internal/config.js';
export { getCacheVersion, getCompressionMethod } from '../../node_modules/@actions/cache/lib/internal/cacheUtils.js';
export { internalCacheTwirpClient } from '../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js';
