/* Source and sink */
export { fromRedisStream } from '../connectors/redis/fromRedisStream.js';
export { toRedisStream } from '../connectors/redis/toRedisStream.js';

/* Helpers */
export { isRedisUrl, parseRedisStreamUrl } from '../connectors/redis/redisUrl.js';

/* Types */
export type { RedisDelivery } from '../connectors/redis/RedisDelivery.js';
export type { RedisStreamSourceConfig, RedisStreamEntry } from '../connectors/redis/RedisStreamSourceConfig.js';
export type { RedisStreamSinkConfig } from '../connectors/redis/toRedisStream.js';
export type { RedisRecord } from '../connectors/redis/RedisStreamWriter.js';
export type { RedisStreamAddress } from '../connectors/redis/redisUrl.js';
