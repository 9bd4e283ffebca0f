// Typed network calls over EngineClient's generic request.
import { encodeFilters, type EngineClient, type Filters } from './engine-client.js';
import type { EndpointSettings } from './types/containers.js';
import type { Network, NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse } from './types/networks.js';

const enc = encodeURIComponent;

export class NetworksApi {
  constructor(readonly client: EngineClient) {}

  create(body: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.client.request('POST', '/networks/create', { body });
  }

  list(opts: { filters?: Filters } = {}): Promise<Network[]> {
    return this.client.request('GET', '/networks', { query: { filters: encodeFilters(opts.filters) } });
  }

  inspect(id: string, opts: { verbose?: boolean } = {}): Promise<Network> {
    return this.client.request('GET', `/networks/${enc(id)}`, { query: { verbose: opts.verbose || undefined } });
  }

  async remove(id: string): Promise<void> {
    await this.client.request('DELETE', `/networks/${enc(id)}`);
  }

  async connect(id: string, container: string, endpoint?: EndpointSettings): Promise<void> {
    await this.client.request('POST', `/networks/${enc(id)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }

  async disconnect(id: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.client.request('POST', `/networks/${enc(id)}/disconnect`, { body: { Container: container, Force: opts.force || undefined } });
  }

  prune(opts: { filters?: Filters } = {}): Promise<NetworkPruneResponse> {
    return this.client.request('POST', '/networks/prune', { query: { filters: encodeFilters(opts.filters) } });
  }
}
