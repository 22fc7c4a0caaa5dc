import type { Command } from '@oclif/core';
import { Help } from '@oclif/core/help';

/** What a command may declare about its `--json` output (copied into oclif.manifest.json). */
interface JsonDoc {
  /** A sample of the `--json` output, checked against the contract by json-examples.test.ts. */
  jsonExample?: unknown;
  /** The output is NDJSON: one element of `jsonExample` a line. */
  jsonLines?: boolean;
}

/**
 * oclif's help, plus a JSON OUTPUT section for every command that has a `jsonExample`. It
 * reads the example from the manifest, so `--help` still loads no command module.
 */
export default class ClickvidHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    const base = super.formatCommand(command);
    const { jsonExample, jsonLines } = command as Command.Loadable & JsonDoc;
    if (jsonExample === undefined) return base;
    const body = jsonLines && Array.isArray(jsonExample)
      ? jsonExample.map((line) => JSON.stringify(line)).join('\n')
      : JSON.stringify(jsonExample, null, 2);
    return `${base}\n\n${this.section('JSON OUTPUT (--json)', body)}`;
  }
}
