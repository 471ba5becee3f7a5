import { lastValueFrom } from 'rxjs';
import { MissingRuntimeError } from 'rxjs-inference';
import { fromRedisStream } from 'rxjs-inference/redis';

// As if `ioredis` (an optional peer) were not installed.
jest.mock('ioredis', () => {
  throw new Error("Cannot find module 'ioredis'");
});

it('without ioredis, opening a stream fails with MissingRuntimeError naming the package to install', async () => {
  const error = await lastValueFrom(fromRedisStream('redis://127.0.0.1:1/in?group=g')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MissingRuntimeError);
  expect((error as Error).message).toBe(
    'A Redis stream needs the optional peer dependency `ioredis`: run `npm install ioredis`.',
  );
});
