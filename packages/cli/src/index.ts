/** The clickvid CLI as a module: `run(argv)` runs a command in-process. */
export { run } from '@oclif/core';
