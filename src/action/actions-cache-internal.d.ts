export { getCacheMode, getCacheServiceVersion, isCacheReadable, isCacheWritable } from '../../node_modules/@actions/cache/lib/internal/config.js';
export { getCacheVersion, getCompressionMethod } from '../../node_modules/@actions/cache/lib/internal/cacheUtils.js';
export { internalCacheTwirpClient } from '../../node_modules/@actions/cache/lib/internal/shared/cacheTwirpClient.js';
