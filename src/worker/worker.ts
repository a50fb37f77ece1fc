/** Builds the Temporal worker that runs FeedbackWorkflow and its activities. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { AppConfig } from '../config';
import type { FeedbackActivities } from '../activities';
import { activityInterceptors } from './activity-interceptors';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface FeedbackWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: FeedbackActivities;
  limits: AppConfig['worker'];
  /** A prebuilt bundle (production) or, when absent, the workflow sources bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createFeedbackWorker(options: FeedbackWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    interceptors: { activity: [activityInterceptors] },
    maxConcurrentActivityTaskExecutions: options.limits.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: options.limits.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: options.limits.maxConcurrentWorkflowTasks,
    // A SIGTERM lets activities in flight finish (or heartbeat their cancellation) within this bound.
    shutdownGraceTime: '10 seconds',
  });
}
