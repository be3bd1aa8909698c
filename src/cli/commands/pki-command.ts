/** Registers `mesh ca …` and `mesh cert …` (one line in program.ts). Filled in by the PKI work. */
import type { Command } from 'commander';
import type { Run } from '../runner.ts';

export function registerPkiCommands(_program: Command, _run: Run): void {}
