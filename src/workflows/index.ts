// The workflow bundle's entry point: every workflow the worker registers.
export { FeedbackWorkflow } from './feedback';
export { RedeliverWorkflow } from './redeliver';
export { RedeliverWindowWorkflow } from './redeliver-window';
