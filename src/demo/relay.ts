import type { ServerResponse } from 'node:http';
import { describe, type ProviderName, type ProviderStream } from './provider.js';
import { formatEvent } from './sse.js';

/**
 * Forwards a provider's stream to the gateway's caller as server-sent events:
 * `data: {"delta":"…","provider":"a"}` per token, then `data: [DONE]`. A failure after the first token
 * cannot move to another provider (the caller already has part of an answer): it ends the stream with
 * `event: error` and `data: {"error":"…","provider":"a"}`. The caller going away closes the provider call.
 */
export async function relayStream(response: ServerResponse, stream: ProviderStream, provider: ProviderName): Promise<void> {
  if (response.destroyed) return stream.cancel();
  const callerGone = () => {
    if (!response.writableFinished) stream.cancel();
  };
  response.on('close', callerGone);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const write = (data: unknown, event?: string) => {
    if (!response.destroyed) response.write(formatEvent(JSON.stringify(data), event));
  };
  try {
    if (stream.first !== '') write({ delta: stream.first, provider });
    for await (const delta of stream.rest) {
      if (response.destroyed) return;
      write({ delta, provider });
    }
    if (!response.destroyed) response.end(formatEvent('[DONE]'));
  } catch (error) {
    write({ error: describe(error), provider }, 'error');
    response.end();
  } finally {
    response.off('close', callerGone);
  }
}
