/**
 * ccr-follow's own API for cluster-metadata patterns (no CCR or replication plugin API has one),
 * shaped like CCR's auto-follow API: `PUT|GET|DELETE /_ccr/cluster_metadata/<name>`,
 * `POST …/<name>/pause|resume`, `GET /_ccr/cluster_metadata`. A thin mapping onto
 * `MetadataCoordinator`; its refusals become the API's error answers.
 */
import type { FastifyInstance } from 'fastify';
import { MetadataPatternError } from '../../cluster-metadata/metadata-pattern.js';
import { MetadataPatternElsewhereError, MetadataPatternNotFoundError, type MetadataCoordinator } from '../../cluster-metadata/metadata-coordinator.js';
import { checkBody, NO_BODY, objectBody } from '../control-input.js';
import { ApiError } from './api-error.js';

export const CLUSTER_METADATA_PATH = '/_ccr/cluster_metadata';
const ACK = { acknowledged: true } as const;

interface NameParams { name: string }

export function mountClusterMetadataApi(app: FastifyInstance, metadata: MetadataCoordinator): void {
  app.put<{ Params: NameParams }>(`${CLUSTER_METADATA_PATH}/:name`, async (req) => {
    await answer(() => metadata.put(req.params.name, objectBody(req.body, 'a cluster-metadata pattern')));
    return ACK;
  });
  app.get(CLUSTER_METADATA_PATH, async () => ({ patterns: metadata.list() }));
  app.get<{ Params: NameParams }>(`${CLUSTER_METADATA_PATH}/:name`, async (req) => ({ patterns: await answer(async () => metadata.list(req.params.name)) }));
  app.delete<{ Params: NameParams }>(`${CLUSTER_METADATA_PATH}/:name`, async (req) => {
    checkBody(objectBody(req.body, 'cluster-metadata delete'), NO_BODY, 'cluster-metadata delete');
    await answer(() => metadata.delete(req.params.name));
    return ACK;
  });
  // The follower cluster takes over: the pattern is paused and what following held back is put back.
  app.post<{ Params: NameParams }>(`${CLUSTER_METADATA_PATH}/:name/promote`, async (req) => {
    checkBody(objectBody(req.body, 'cluster-metadata promote'), NO_BODY, 'cluster-metadata promote');
    return { restored: await answer(() => metadata.promote({ name: req.params.name })) };
  });
  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: NameParams }>(`${CLUSTER_METADATA_PATH}/:name/${action}`, async (req) => {
      checkBody(objectBody(req.body, `cluster-metadata ${action}`), NO_BODY, `cluster-metadata ${action}`);
      await answer(() => metadata[action](req.params.name));
      return ACK;
    });
  }
}

async function answer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof MetadataPatternError) throw new ApiError('illegal_argument_exception', err.message, 400);
    if (err instanceof MetadataPatternNotFoundError) throw new ApiError('resource_not_found_exception', err.message, 404);
    if (err instanceof MetadataPatternElsewhereError) throw new ApiError('illegal_state_exception', err.message, 409, err.runBy);
    throw err;
  }
}
