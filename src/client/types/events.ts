// Engine API wire type of one `/events` line (swagger EventMessage), including the
// legacy `status`/`id`/`from` fields old clients (docker-py) still read.

export type EventMessageType =
  | 'builder'
  | 'config'
  | 'container'
  | 'daemon'
  | 'image'
  | 'network'
  | 'node'
  | 'plugin'
  | 'secret'
  | 'service'
  | 'volume';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  Type: EventMessageType;
  Action: string;
  Actor: EventActor;
  scope: 'local' | 'swarm';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds. */
  timeNano: number;
  /** Legacy (containers and images): the action. */
  status?: string;
  /** Legacy (containers and images): the actor ID. */
  id?: string;
  /** Legacy (containers): the image. */
  from?: string;
}
