import { isRedisUrl, parseRedisStreamUrl } from '../../redis/index.js';
import type { PredictOptions } from '../PredictOptions.js';
import { UsageError } from '../UsageError.js';
import { RedisRecordSink } from './RedisRecordSink.js';
import { RedisRecordSource } from './RedisRecordSource.js';

/** The command's streams when they are Redis streams, with credential-free names for the summary. */
export interface RedisStreams {
  readonly source: RedisRecordSource;
  readonly output: RedisRecordSink;
  readonly deadLetter: RedisRecordSink;
  readonly outputLabel: string;
  readonly deadLetterLabel: string;
}

/** Checked Redis options: {@link open} connects. */
export interface RedisPlan {
  open(log: (text: string) => void): RedisStreams;
}

function parse(url: string, option: string) {
  try {
    return parseRedisStreamUrl(url, option);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The input's server and credentials (and `?db=`), stream `STREAM:dead-letter`. */
function defaultDeadLetter(input: string): string {
  const url = new URL(input);
  const db = url.searchParams.get('db');
  url.pathname = `${url.pathname}:dead-letter`;
  url.search = db === null ? '' : `?db=${db}`;
  return url.toString();
}

/**
 * Checks the Redis options of `predict` (no connection yet): `undefined` when no stream is a Redis URL. A Redis input
 * needs a Redis output (an entry is acknowledged only once its result is in a stream); the dead letters default to
 * `STREAM:dead-letter` on the input's server.
 */
export function planRedisStreams(options: PredictOptions): RedisPlan | undefined {
  const { input, output } = options;
  if (!isRedisUrl(input) && !isRedisUrl(output) && !isRedisUrl(options.deadLetter)) return undefined;
  if (!isRedisUrl(input)) {
    throw new UsageError('--output/--dead-letter redis://… need --input redis://HOST:PORT/STREAM?group=GROUP.');
  }
  if (!isRedisUrl(output)) {
    throw new UsageError(
      '--input redis://… needs --output redis://HOST:PORT/STREAM: an entry is acknowledged once its result is written there.',
    );
  }
  if (options.deadLetter !== undefined && !isRedisUrl(options.deadLetter)) {
    throw new UsageError(
      '--input redis://… needs --dead-letter redis://HOST:PORT/STREAM (or none: STREAM:dead-letter).',
    );
  }
  const deadLetter = options.deadLetter ?? defaultDeadLetter(input!);
  const inputAddress = parse(input!, '--input');
  if (!inputAddress.params.has('group')) {
    throw new UsageError(`--input ${inputAddress.display}: the consumer group is missing (?group=GROUP).`);
  }
  const outputLabel = parse(output!, '--output').display;
  const deadLetterLabel = parse(deadLetter, '--dead-letter').display;
  return {
    open: (log) => {
      let source: RedisRecordSource;
      try {
        source = new RedisRecordSource({
          url: input!,
          deadLetter,
          maxInFlight: options.maxInFlight,
          maxRawLength: options.maxRawLength,
          log,
        });
      } catch (error) {
        throw new UsageError(`--input ${inputAddress.display}: ${(error as Error).message}`);
      }
      return {
        source,
        output: new RedisRecordSink(output!, source),
        deadLetter: new RedisRecordSink(deadLetter, source),
        outputLabel,
        deadLetterLabel,
      };
    },
  };
}
