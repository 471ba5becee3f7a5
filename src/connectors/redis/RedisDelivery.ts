/** One stream entry handed to this consumer, to be acknowledged once its result is safely written. */
export interface RedisDelivery<T = string> {
  /** The entry's id in the input stream (`1718000000000-0`): the key that makes sinks idempotent. */
  readonly id: string;
  /** The entry's value (its `data` field, or the configured one; `''` when the entry has none). */
  readonly value: T;
  /** How many times the entry has been delivered, this time included (1 the first time; more after a reclaim). */
  readonly deliveries: number;
  /** The input stream's key. */
  readonly stream: string;
  /**
   * Acknowledges the entry (`XACK`): call it only after its result (or dead letter) is written. Acks of the same
   * turn of the event loop share one round trip; calling it twice is harmless. Resolves once Redis has it.
   */
  ack(): Promise<void>;
}

/** What the sink needs to acknowledge a delivery inside its own transaction (not public). */
export interface DeliveryInternals {
  /** The input's server and credentials ({@link RedisStreamAddress.serverKey}). */
  readonly serverKey: string;
  readonly stream: string;
  readonly group: string;
  /** Records that the entry was acknowledged by someone else's `XACK` (the sink's `MULTI`). */
  readonly settle: () => void;
}

/** Set by the source for each delivery it emits; read by the sink. */
export const deliveryInternals = new WeakMap<RedisDelivery<unknown>, DeliveryInternals>();
