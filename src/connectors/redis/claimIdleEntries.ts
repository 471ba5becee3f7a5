import type { RedisClient } from './loadRedisClient.js';
import { type RawEntry } from './fieldValue.js';
import type { ResolvedRedisStreamSourceConfig } from './RedisStreamSourceConfig.js';

/** Entries taken over from idle consumers, with how often each was delivered (this claim counted). */
export interface ClaimedEntries {
  /** Where the next `XAUTOCLAIM` goes on. */
  readonly cursor: string;
  readonly entries: readonly { readonly id: string; readonly fields: RawEntry[1]; readonly deliveries: number }[];
}

/**
 * Takes over up to `count` entries another consumer has held for `minIdleMs` (`XAUTOCLAIM` from `cursor`), and reads
 * their delivery counts (`XPENDING`: `XAUTOCLAIM` does not say them). Deleted entries are left out.
 */
export async function claimIdleEntries(
  control: RedisClient,
  c: ResolvedRedisStreamSourceConfig,
  cursor: string,
  count: number,
  held: number,
): Promise<ClaimedEntries> {
  const stream = c.address.stream;
  const [next, entries] = (await control.call(
    'XAUTOCLAIM',
    stream,
    c.group,
    c.consumer,
    c.minIdleMs,
    cursor,
    'COUNT',
    count,
  )) as [string, RawEntry[]];
  const live = entries.filter(([, fields]) => fields !== null);
  if (live.length === 0) return { cursor: next, entries: [] };
  const pending = (await control.call(
    'XPENDING',
    stream,
    c.group,
    live[0][0],
    live[live.length - 1][0],
    live.length + held,
    c.consumer,
  )) as [string, string, number, number][];
  const counts = new Map(pending.map(([id, , , times]) => [id, Number(times)]));
  return { cursor: next, entries: live.map(([id, fields]) => ({ id, fields, deliveries: counts.get(id) ?? 1 })) };
}
