/** A minimal JSON-over-HTTP client for the bench (plain fetch: no client library overhead in the measurements). */
export class HttpError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what} answered ${status}: ${body.slice(0, 500)}`);
  }
}

export class Rest {
  constructor(readonly url: string) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
    const isRaw = Buffer.isBuffer(body) || typeof body === 'string';
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': isRaw ? 'application/x-ndjson' : 'application/json' },
      ...(body === undefined ? {} : { body: isRaw ? (body as BodyInit) : JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new HttpError(res.status, text, `${method} ${this.url}${path}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** `_bulk` on `index`; throws on any item error (filter_path keeps the answer small). */
  async bulk(index: string, body: Buffer | string): Promise<void> {
    const res = await this.request<{ errors: boolean; items?: unknown[] }>('POST', `/${index}/_bulk?filter_path=errors,items.*.error`, body);
    if (res.errors) throw new Error(`bulk into ${index} had errors: ${JSON.stringify(res.items?.slice(0, 3))}`);
  }

  async createIndex(index: string, body: unknown): Promise<void> {
    await this.request('PUT', `/${index}`, body);
    await this.request('GET', `/_cluster/health/${index}?wait_for_status=yellow&timeout=60s`);
  }

  async deleteIndex(index: string): Promise<void> {
    await this.request('DELETE', `/${index}?ignore_unavailable=true`).catch(() => undefined);
  }

  async refresh(index: string): Promise<void> {
    await this.request('POST', `/${index}/_refresh`);
  }

  async count(index: string): Promise<number> {
    await this.refresh(index);
    return (await this.request<{ count: number }>('GET', `/${index}/_count`)).count;
  }

  /** Per primary shard: max_seq_no and global checkpoint. */
  async shardSeqNos(index: string): Promise<Map<number, { maxSeqNo: number; globalCheckpoint: number }>> {
    const res = await this.request<{ indices: Record<string, { shards: Record<string, { routing: { primary: boolean }; seq_no: { max_seq_no: number; global_checkpoint: number } }[]> }> }>(
      'GET', `/${index}/_stats/docs?level=shards`);
    const out = new Map<number, { maxSeqNo: number; globalCheckpoint: number }>();
    for (const [shard, copies] of Object.entries(Object.values(res.indices)[0]?.shards ?? {})) {
      const primary = copies.find((c) => c.routing.primary);
      if (primary) out.set(Number(shard), { maxSeqNo: primary.seq_no.max_seq_no, globalCheckpoint: primary.seq_no.global_checkpoint });
    }
    return out;
  }
}
