// A real SQS-compatible server (fauxqs) on loopback, in-process, for a test file.
export { startEmbeddedSqs as startTestSqs, type EmbeddedSqs as TestSqs } from '../../local/embedded-sqs.ts';
