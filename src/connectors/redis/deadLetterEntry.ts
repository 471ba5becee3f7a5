import type { RedisClient } from './loadRedisClient.js';
import type { RedisStreamEntry, ResolvedRedisStreamSourceConfig } from './RedisStreamSourceConfig.js';

/**
 * Writes a poison entry (delivered more than `maxDeliveries` times) to the dead-letter stream and acknowledges it:
 * in one transaction when the dead-letter stream is on the same server, else one after the other.
 */
export async function deadLetterEntry(
  control: RedisClient,
  deadLetterClient: RedisClient | undefined,
  c: ResolvedRedisStreamSourceConfig,
  entry: RedisStreamEntry,
): Promise<void> {
  const data = c.poisonData(entry, c.maxDeliveries);
  const xadd: [string, ...string[]] = ['XADD', c.deadLetter.stream, '*', 'id', entry.id, 'data', data];
  const ack: [string, ...(string | number)[]] = ['XACK', c.address.stream, c.group, entry.id];
  if (deadLetterClient === undefined) {
    const replies = await control
      .multi()
      .call(...xadd)
      .call(...ack)
      .exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed) throw failed[0];
  } else {
    await deadLetterClient.call(...xadd);
    await control.call(...ack);
  }
  c.onPoison?.(entry);
}
