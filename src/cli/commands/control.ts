// cellctl control migrate-to: move the control plane from control.db into PostgreSQL.
import { defineCommand, defineGroup, required } from '../define.js';

export const controlMigrateTo = defineCommand({
  command: 'migrate-to',
  summary: "copy a stopped workspace's control.db into PostgreSQL (verified) and use it from then on",
  args: { url: required('postgres://user:password@host:5432/database (an empty database, or one this copy made)') },
  examples: ['cellctl stop && cellctl control migrate-to postgres://cellctl:secret@db.internal:5432/cellctl'],
  handler: () => import('../handlers/control.js').then((m) => m.run),
});

export const control = defineGroup({
  command: 'control',
  summary: 'the control plane: move it from control.db into PostgreSQL',
  subcommands: [controlMigrateTo],
  examples: ['cellctl control migrate-to postgres://cellctl:secret@db.internal:5432/cellctl'],
});
