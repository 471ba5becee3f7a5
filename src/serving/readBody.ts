import type { IncomingMessage } from 'node:http';
import { InferRequestError } from './InferRequestError.js';

/**
 * Reads a request body of at most `maxBytes`. A larger declared `Content-Length` is refused before a byte is read,
 * and a body that grows past the limit (chunked, or lying about its length) is refused as soon as it does: 413 in both
 * cases, never a buffer that grows with what a client sends.
 *
 * @throws InferRequestError (413) past the limit; the stream's error when the client goes away mid-body.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (size: string): InferRequestError =>
    new InferRequestError(`request body: ${size} is over the limit of ${maxBytes} bytes (--max-body-bytes).`, 413);
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(`${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // Stop reading: the answer goes out with `Connection: close`, and the rest of the body is never buffered.
        request.pause();
        reject(tooLarge('the body'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      if (request.complete) return;
      cleanup();
      reject(new Error('The client closed the connection before sending the whole body.'));
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
