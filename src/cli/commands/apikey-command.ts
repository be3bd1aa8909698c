/** Registers `mesh apikey …` (one line in program.ts). Filled in by the API-key work. */
import type { Command } from 'commander';
import type { Run } from '../runner.ts';

export function registerApiKeyCommands(_program: Command, _run: Run): void {}
