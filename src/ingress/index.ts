/**
 * The ingress component's public surface: `createIngress` (the one door every client submission goes
 * through: check, admit to the mempool, hand to gossip, count by origin), its error codes and result
 * type, and `createSubmissionTracker` (submit → commit latency of what this node admitted).
 */
export { createIngress, type IngressDeps } from './ingress.ts';
export { createIngressMetrics, type IngressKind, type IngressMetrics } from './metrics.ts';
export {
  createSubmissionTracker,
  type SubmissionTracker,
  type SubmissionTrackerOptions,
} from './submissions.ts';
export {
  type BundleCancelSubmitResult,
  type BundleSubmitResult,
  INGRESS_ORIGINS,
  type Ingress,
  type IngressBundleCode,
  type IngressErrorCode,
  type IngressOrigin,
  type IngressResult,
} from './types.ts';
