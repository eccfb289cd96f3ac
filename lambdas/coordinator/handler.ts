// Coordinator Lambda: starts (or resumes) a run and enqueues its chunks.
// (being written)
export const handler = async (_event: unknown): Promise<unknown> => {
  throw new Error('coordinator handler not implemented yet');
};
