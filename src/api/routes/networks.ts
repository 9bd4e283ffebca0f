// /networks: list, inspect, create, remove, connect, disconnect, prune. Parses Docker's wire
// shapes, calls the backend once and answers in Docker's shape (swagger v1.51 Network*).
import { z } from 'zod';
import type { Network, NetworkCreateResponse, NetworkPruneResponse } from '../../client/index.js';
import type {
  ContainerRef,
  EndpointRequest,
  FilterMap,
  NetworkCreateRequest,
  NetworkInspect,
} from '../../network/index.js';
import { invalidArgument } from '../../util/index.js';
import type { Filters } from '../filters.js';
import type { Route } from '../router.js';

/** What the network routes need (the NetworkService satisfies it). */
export interface NetworkBackend {
  list(filters: FilterMap): Promise<NetworkInspect[]>;
  inspect(idOrName: string): Promise<NetworkInspect>;
  create(req: NetworkCreateRequest, opts?: { signal?: AbortSignal }): Promise<{ id: string; warning: string }>;
  remove(idOrName: string, opts?: { signal?: AbortSignal }): Promise<void>;
  prune(filters: FilterMap, opts?: { signal?: AbortSignal }): Promise<{ NetworksDeleted: string[] }>;
  connect(idOrName: string, container: ContainerRef, req: EndpointRequest, opts?: { signal?: AbortSignal }): Promise<void>;
  disconnect(idOrName: string, containerId: string, opts?: { force?: boolean; signal?: AbortSignal }): Promise<void>;
}

/** Finds a container by id, id prefix or name (the runtime answers; 404 `No such container`). */
export type ContainerResolver = (idOrName: string) => Promise<ContainerRef>;

const StringMap = z.record(z.string(), z.string()).nullish();

const CreateBody = z.object({
  Name: z.string().min(1, 'Name is required'),
  CheckDuplicate: z.boolean().nullish(),
  Driver: z.string().nullish(),
  Scope: z.string().nullish(),
  Internal: z.boolean().nullish(),
  Attachable: z.boolean().nullish(),
  Ingress: z.boolean().nullish(),
  EnableIPv6: z.boolean().nullish(),
  IPAM: z
    .object({
      Driver: z.string().nullish(),
      Options: StringMap,
      Config: z
        .array(z.object({ Subnet: z.string().nullish(), IPRange: z.string().nullish(), Gateway: z.string().nullish() }))
        .nullish(),
    })
    .nullish(),
  Options: StringMap,
  Labels: StringMap,
});

const EndpointConfigBody = z
  .object({
    IPAMConfig: z.object({ IPv4Address: z.string().nullish() }).nullish(),
    Aliases: z.array(z.string()).nullish(),
  })
  .nullish();

const ConnectBody = z.object({ Container: z.string().min(1), EndpointConfig: EndpointConfigBody });
const DisconnectBody = z.object({ Container: z.string().min(1), Force: z.boolean().nullish() });

function filterMap(f: Filters): FilterMap {
  const out: FilterMap = {};
  for (const k of f.keys()) out[k] = f.get(k);
  return out;
}

export function toWireNetwork(n: NetworkInspect): Network {
  return n;
}

export function toCreateRequest(b: z.infer<typeof CreateBody>): NetworkCreateRequest {
  if (b.EnableIPv6) throw invalidArgument('IPv6 networks are not supported by berth');
  return {
    name: b.Name,
    driver: b.Driver ?? undefined,
    internal: b.Internal ?? false,
    attachable: b.Attachable ?? false,
    ipam: {
      driver: b.IPAM?.Driver ?? undefined,
      options: b.IPAM?.Options ?? {},
      config: (b.IPAM?.Config ?? []).map((c) => ({
        subnet: c.Subnet ?? undefined,
        gateway: c.Gateway ?? undefined,
        ipRange: c.IPRange ?? undefined,
      })),
    },
    options: b.Options ?? {},
    labels: b.Labels ?? {},
  };
}

export function networkRoutes(backend: NetworkBackend, resolveContainer: ContainerResolver): Route[] {
  return [
    {
      method: 'GET',
      path: '/networks',
      handler: async (ctx) => {
        const list = await backend.list(filterMap(ctx.queryFilters()));
        ctx.sendJson(200, list.map(toWireNetwork));
      },
    },
    {
      method: 'GET',
      path: '/networks/{id}',
      handler: async (ctx) => {
        ctx.sendJson(200, toWireNetwork(await backend.inspect(ctx.param('id'))));
      },
    },
    {
      method: 'POST',
      path: '/networks/create',
      handler: async (ctx) => {
        const body = await ctx.readJson(CreateBody);
        const { id, warning } = await backend.create(toCreateRequest(body), { signal: ctx.signal });
        const reply: NetworkCreateResponse = { Id: id, Warning: warning };
        ctx.sendJson(201, reply);
      },
    },
    {
      method: 'DELETE',
      path: '/networks/{id}',
      handler: async (ctx) => {
        await backend.remove(ctx.param('id'), { signal: ctx.signal });
        ctx.sendNoContent();
      },
    },
    {
      method: 'POST',
      path: '/networks/{id}/connect',
      handler: async (ctx) => {
        const body = await ctx.readJson(ConnectBody);
        const network = await backend.inspect(ctx.param('id'));
        const container = await resolveContainer(body.Container);
        const req: EndpointRequest = {};
        if (body.EndpointConfig?.Aliases?.length) req.aliases = body.EndpointConfig.Aliases;
        if (body.EndpointConfig?.IPAMConfig?.IPv4Address) req.ipv4Address = body.EndpointConfig.IPAMConfig.IPv4Address;
        await backend.connect(network.Id, container, req, { signal: ctx.signal });
        ctx.sendText(200, '');
      },
    },
    {
      method: 'POST',
      path: '/networks/{id}/disconnect',
      handler: async (ctx) => {
        const body = await ctx.readJson(DisconnectBody);
        const network = await backend.inspect(ctx.param('id'));
        const container = await resolveContainer(body.Container);
        await backend.disconnect(network.Id, container.id, { force: body.Force ?? false, signal: ctx.signal });
        ctx.sendText(200, '');
      },
    },
    {
      method: 'POST',
      path: '/networks/prune',
      handler: async (ctx) => {
        const res = await backend.prune(filterMap(ctx.queryFilters()), { signal: ctx.signal });
        const reply: NetworkPruneResponse = { NetworksDeleted: res.NetworksDeleted };
        ctx.sendJson(200, reply);
      },
    },
  ];
}
