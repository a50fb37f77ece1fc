/** A scripted Temporal visibility: `workflow.list` answers with the given runs and records its queries. */
import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import {
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  RequestSignatureSearchAttribute,
} from '../../src/domain/workflow';
import type { ListedFailure, RunLister } from '../../src/run/repeats';

export interface FakeRun {
  workflowId: string;
  status: 'RUNNING' | 'FAILED' | 'COMPLETED';
  startTime: string;
  memberId?: number;
  signature?: string;
  stage?: string;
}

export function listedRun(run: FakeRun): ListedFailure {
  return {
    workflowId: run.workflowId,
    status: { name: run.status } as ListedFailure['status'],
    startTime: new Date(run.startTime),
    typedSearchAttributes: new TypedSearchAttributes([
      ...(run.memberId === undefined ? [] : [{ key: MemberIdSearchAttribute, value: run.memberId }]),
      ...(run.signature === undefined
        ? []
        : [{ key: RequestSignatureSearchAttribute, value: run.signature }]),
      ...(run.stage === undefined ? [] : [{ key: FeedbackStageSearchAttribute, value: run.stage }]),
    ]),
  };
}

/** `runs` are what the server would answer to any query (the query itself is checked by the tests). */
export function fakeVisibility(runs: FakeRun[]) {
  const queries: Array<{ query?: string; pageSize?: number }> = [];
  let yielded = 0;
  const lister: RunLister = {
    workflow: {
      list: ((options: { query?: string; pageSize?: number } = {}) => {
        queries.push(options);
        return (async function* () {
          for (const run of runs) {
            yielded += 1;
            yield listedRun(run);
          }
        })();
      }) as unknown as Client['workflow']['list'],
    },
  };
  return { lister, queries, yielded: () => yielded };
}
