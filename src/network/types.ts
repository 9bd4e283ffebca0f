// The persisted shape of a network (`<dataRoot>/networks/<id>.json`) and its endpoints.
// Parsed with zod on every read (STYLE.md §4); `version` lets later formats migrate.
import { z } from 'zod';

export const NETWORK_RECORD_VERSION = 1;

export const PortProtocolSchema = z.enum(['tcp', 'udp']);
export type PortProtocol = z.infer<typeof PortProtocolSchema>;

/** One published port after resolution: a concrete host port for one container port. */
export const PortBindingSchema = z.object({
  hostIp: z.string(),
  hostPort: z.number().int().min(1).max(65535),
  containerPort: z.number().int().min(1).max(65535),
  protocol: PortProtocolSchema,
});
export type PortBinding = z.infer<typeof PortBindingSchema>;

export const EndpointRecordSchema = z.object({
  endpointId: z.string().regex(/^[0-9a-f]{64}$/),
  containerId: z.string().min(1),
  containerName: z.string(),
  /** Reserved address; kept while the container stays connected, so it survives restarts. */
  ipv4: z.string(),
  mac: z.string(),
  /** The address was requested with `--ip` (kept even if the pool changes). */
  staticIp: z.boolean(),
  aliases: z.array(z.string()),
  /** Names the embedded DNS answers for this endpoint (name, aliases, short id). */
  dnsNames: z.array(z.string()),
  /** The container's `--dns` servers: the embedded DNS forwards its queries there instead of the host's. */
  dnsServers: z.array(z.string()).optional(),
  /** Live state: present while the endpoint is plumbed into a running container. */
  live: z
    .object({
      netnsPath: z.string(),
      /** Identity of the netns file when attached, to tell a recycled pid from the same sandbox. */
      netnsDev: z.number(),
      netnsIno: z.number(),
      hostVeth: z.string(),
      ifName: z.string(),
      ports: z.array(PortBindingSchema),
    })
    .optional(),
});
export type EndpointRecord = z.infer<typeof EndpointRecordSchema>;

export const DriverNameSchema = z.enum(['bridge', 'host', 'null']);
export type DriverName = z.infer<typeof DriverNameSchema>;

export const IpamConfigSchema = z.object({
  subnet: z.string(),
  gateway: z.string(),
  ipRange: z.string().optional(),
});
export type IpamConfig = z.infer<typeof IpamConfigSchema>;

export const NetworkRecordSchema = z.object({
  version: z.literal(NETWORK_RECORD_VERSION),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1),
  driver: DriverNameSchema,
  /** RFC 3339 with nanoseconds, like Docker's `Created`. */
  created: z.string(),
  internal: z.boolean(),
  attachable: z.boolean(),
  /** `bridge`, `host`, `none`: created by berthd, cannot be removed. */
  predefined: z.boolean(),
  /** The subnet was given by the user (then `--ip` is allowed, as in Docker). */
  userSubnet: z.boolean(),
  ipam: z.object({
    driver: z.string(),
    options: z.record(z.string(), z.string()),
    config: z.array(IpamConfigSchema),
  }),
  options: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
  /** Kernel bridge device for bridge networks. */
  bridgeName: z.string().optional(),
  endpoints: z.record(z.string(), EndpointRecordSchema),
});
export type NetworkRecord = z.infer<typeof NetworkRecordSchema>;
