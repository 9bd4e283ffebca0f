// Typed volume calls over EngineClient's generic request.
import { encodeFilters, type EngineClient, type Filters } from './engine-client.js';
import type { Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse } from './types/volumes.js';

const enc = encodeURIComponent;

export class VolumesApi {
  constructor(readonly client: EngineClient) {}

  create(body: VolumeCreateRequest): Promise<Volume> {
    return this.client.request('POST', '/volumes/create', { body });
  }

  list(opts: { filters?: Filters } = {}): Promise<VolumeListResponse> {
    return this.client.request('GET', '/volumes', { query: { filters: encodeFilters(opts.filters) } });
  }

  inspect(name: string): Promise<Volume> {
    return this.client.request('GET', `/volumes/${enc(name)}`);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.client.request('DELETE', `/volumes/${enc(name)}`, { query: { force: opts.force || undefined } });
  }

  prune(opts: { filters?: Filters } = {}): Promise<VolumePruneResponse> {
    return this.client.request('POST', '/volumes/prune', { query: { filters: encodeFilters(opts.filters) } });
  }
}
