// Waiting, for the polling loops of the CLI, the supervisor and the drill.

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
