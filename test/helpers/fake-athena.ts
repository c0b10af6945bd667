/**
 * A stateful fake of Athena behind aws-sdk-client-mock. Written behaviour:
 * - StartQueryExecution records the query (SQL, workgroup, database, ExecutionParameters) and answers an id
 *   `q-<n>`; the query follows the script of the first rule whose `match` finds its SQL (default: an empty
 *   SELECT that succeeds);
 * - each GetQueryExecution moves the query one state along its script's `states` (e.g. QUEUED, RUNNING,
 *   SUCCEEDED) and answers the state it is in; a FAILED end carries the rule's `reason`;
 * - GetQueryResults pages the rule's rows `pageSize` at a time (NextToken), the first page of a DML result
 *   starting with the header row as Athena sends it; asking before SUCCEEDED is an InvalidRequestException;
 * - StopQueryExecution cancels.
 */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { AwsStub } from 'aws-sdk-client-mock';

export interface AthenaScript {
  readonly match: RegExp;
  /** States the query goes through, one per GetQueryExecution. @default ['QUEUED', 'RUNNING', 'SUCCEEDED'] */
  readonly states?: readonly string[];
  readonly reason?: string;
  readonly columns?: readonly { readonly name: string; readonly type: string }[];
  /** Cell text per row; null is NULL (no VarCharValue). */
  readonly rows?: readonly (readonly (string | null)[])[];
  /** @default 'DML' */
  readonly statementType?: string;
}

interface Query {
  readonly id: string;
  readonly sql: string;
  readonly input: Record<string, unknown>;
  readonly script: AthenaScript;
  step: number;
  cancelled: boolean;
}

export class FakeAthena {
  pageSize = 1000;
  readonly scripts: AthenaScript[] = [];
  readonly queries: Query[] = [];
  readonly calls: string[] = [];

  script(script: AthenaScript): this {
    this.scripts.push(script);
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  install(mock: AwsStub<any, any, any>): this {
    mock.on(StartQueryExecutionCommand).callsFake(async (input: Record<string, unknown>) => this.start(input));
    mock.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId: string }) => this.execution(input.QueryExecutionId));
    mock.on(GetQueryResultsCommand).callsFake(async (input: { QueryExecutionId: string; NextToken?: string; MaxResults?: number }) => this.results(input));
    mock.on(StopQueryExecutionCommand).callsFake(async (input: { QueryExecutionId: string }) => {
      this.calls.push('StopQueryExecution');
      this.query(input.QueryExecutionId).cancelled = true;
      return {};
    });
    return this;
  }

  private start(input: Record<string, unknown>) {
    this.calls.push('StartQueryExecution');
    const sql = String(input.QueryString);
    const script = this.scripts.find((s) => s.match.test(sql)) ?? { match: /.*/, columns: [], rows: [] };
    const q: Query = { id: `q-${this.queries.length + 1}`, sql, input, script, step: -1, cancelled: false };
    this.queries.push(q);
    return { QueryExecutionId: q.id };
  }

  private query(id: string): Query {
    const q = this.queries.find((x) => x.id === id);
    if (!q) throw Object.assign(new Error(`QueryExecution ${id} was not found`), { name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } });
    return q;
  }

  private state(q: Query): string {
    if (q.cancelled) return 'CANCELLED';
    const states = q.script.states ?? ['QUEUED', 'RUNNING', 'SUCCEEDED'];
    return states[Math.max(0, Math.min(q.step, states.length - 1))]!;
  }

  private execution(id: string) {
    this.calls.push('GetQueryExecution');
    const q = this.query(id);
    q.step += 1;
    const state = this.state(q);
    return {
      QueryExecution: {
        QueryExecutionId: id,
        Query: q.sql,
        StatementType: q.script.statementType ?? 'DML',
        Status: {
          State: state,
          ...(state === 'FAILED' ? { StateChangeReason: q.script.reason ?? 'failed', AthenaError: { ErrorCategory: 2, ErrorType: 1002, ErrorMessage: q.script.reason ?? 'failed' } } : {}),
        },
      },
    };
  }

  private results(input: { QueryExecutionId: string; NextToken?: string; MaxResults?: number }) {
    this.calls.push('GetQueryResults');
    const q = this.query(input.QueryExecutionId);
    if (this.state(q) !== 'SUCCEEDED') throw Object.assign(new Error('Query has not yet finished'), { name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } });
    const columns = q.script.columns ?? [];
    const header = (q.script.statementType ?? 'DML') === 'DML' ? [columns.map((c) => c.name)] : [];
    const all = [...header, ...(q.script.rows ?? [])];
    const size = Math.min(input.MaxResults ?? this.pageSize, this.pageSize);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? String(start + size) : undefined;
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ Name: c.name, Label: c.name, Type: c.type })) },
        Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
      },
      ...(next ? { NextToken: next } : {}),
    };
  }
}
