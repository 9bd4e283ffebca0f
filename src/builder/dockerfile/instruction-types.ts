// One typed object per Dockerfile instruction (the output of instructions.ts). Values are
// as written; expand.ts produces expanded copies of the same shapes.

import type { RunMount } from './run-mount.js';

export const INSTRUCTION_NAMES = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
] as const;

export interface InstructionBase {
  /** Keyword as written (`run`, `RUN`). */
  keyword: string;
  /** The instruction text after joining continuations, trimmed. */
  original: string;
  startLine: number;
  endLine: number;
  comments: string[];
  /** Flags as written (`--from=build`). */
  flags: string[];
}

export interface KeyValue {
  key: string;
  value: string;
  /** Legacy `ENV k v` form (no `=`). */
  noDelim: boolean;
}

export interface ShellInlineFile {
  name: string;
  data: string;
  chomp: boolean;
}

/** CMD / ENTRYPOINT / RUN command line: exec form, or one shell string to prepend the SHELL to. */
export interface CommandLine {
  cmdLine: string[];
  prependShell: boolean;
  files: ShellInlineFile[];
}

export interface SourceContent {
  path: string;
  data: string;
  expand: boolean;
}

export interface SourcesAndDest {
  sources: string[];
  sourceContents: SourceContent[];
  dest: string;
}

export interface FromInstruction extends InstructionBase {
  kind: 'from';
  image: string;
  /** Lower-cased stage name from `AS name`. */
  stageName?: string;
  /** The `AS` keyword and the stage name as written (for casing checks). */
  asKeyword?: string;
  stageNameAsWritten?: string;
  platform?: string;
}
export interface RunInstruction extends InstructionBase, CommandLine {
  kind: 'run';
  /** Raw `--mount` values, in order. */
  mountSpecs: string[];
  /** Mounts parsed without expansion (absent when a value needs expansion first). */
  mounts?: RunMount[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
}
export interface CmdInstruction extends InstructionBase, CommandLine {
  kind: 'cmd';
}
export interface EntrypointInstruction extends InstructionBase, CommandLine {
  kind: 'entrypoint';
}
export interface EnvInstruction extends InstructionBase {
  kind: 'env';
  env: KeyValue[];
}
export interface LabelInstruction extends InstructionBase {
  kind: 'label';
  labels: KeyValue[];
}
export interface ArgInstruction extends InstructionBase {
  kind: 'arg';
  args: { key: string; value?: string }[];
}
export interface ExposeInstruction extends InstructionBase {
  kind: 'expose';
  /** As written (sorted, like BuildKit); expand then parse with parseExposePort. */
  ports: string[];
}
export interface WorkdirInstruction extends InstructionBase {
  kind: 'workdir';
  path: string;
}
export interface UserInstruction extends InstructionBase {
  kind: 'user';
  user: string;
}
export interface CopyInstruction extends InstructionBase, SourcesAndDest {
  kind: 'copy';
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
  parents: boolean;
}
export interface AddInstruction extends InstructionBase, SourcesAndDest {
  kind: 'add';
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
  keepGitDir?: boolean;
  checksum?: string;
  unpack?: boolean;
}
export interface VolumeInstruction extends InstructionBase {
  kind: 'volume';
  volumes: string[];
}
/** Durations in nanoseconds, like the image config. 0 = inherit/default. */
export interface HealthConfig {
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}
export interface HealthcheckInstruction extends InstructionBase {
  kind: 'healthcheck';
  health: HealthConfig;
}
export interface ShellInstruction extends InstructionBase {
  kind: 'shell';
  shell: string[];
}
export interface StopSignalInstruction extends InstructionBase {
  kind: 'stopsignal';
  signal: string;
}
export interface OnbuildInstruction extends InstructionBase {
  kind: 'onbuild';
  /** The trigger as it is stored in the image config (`RUN echo hi`). */
  expression: string;
  triggerKeyword: string;
}
export interface MaintainerInstruction extends InstructionBase {
  kind: 'maintainer';
  maintainer: string;
}

export type Instruction =
  | FromInstruction | RunInstruction | CmdInstruction | EntrypointInstruction | EnvInstruction
  | LabelInstruction | ArgInstruction | ExposeInstruction | WorkdirInstruction | UserInstruction
  | CopyInstruction | AddInstruction | VolumeInstruction | HealthcheckInstruction | ShellInstruction
  | StopSignalInstruction | OnbuildInstruction | MaintainerInstruction;

export type InstructionKind = Instruction['kind'];
