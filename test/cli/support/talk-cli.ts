/** Runs `talk` as its own program, the way `parley talk` runs once cli/main registers it. */
import { Command } from 'commander';
import { registerTalkCommand } from '../../../src/cli/talk.js';

const program = new Command('parley');
registerTalkCommand(program);
await program.parseAsync(process.argv);
