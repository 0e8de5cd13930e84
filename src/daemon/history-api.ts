/**
 * `GET /_status/history`: every follower's samples of the last hour (follower-history.ts), oldest
 * first, for the status page's charts. Not a CCR API, hence outside `/_ccr`.
 */
import type { FastifyInstance } from 'fastify';
import type { FollowerHistory } from './follower-history.js';

export const HISTORY_PATH = '/_status/history';

export function registerHistoryRoute(app: FastifyInstance, history: FollowerHistory): void {
  app.get(HISTORY_PATH, async () => history.view());
}
