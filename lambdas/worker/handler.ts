// Worker Lambda: SQS event -> one chunk operation per record, partial batch response.
// (being written; do not edit outside the owner's session)
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => {
  throw new Error('worker handler not implemented yet');
};
