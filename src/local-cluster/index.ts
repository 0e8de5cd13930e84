// Local Elasticsearch/OpenSearch nodes for quickstart and the test harness.
export {
  DEFAULT_DISTRIBUTIONS,
  ELASTICSEARCH_7,
  ELASTICSEARCH_8,
  KNOWN_DISTRIBUTIONS,
  LocalClusterError,
  OPENSEARCH_2,
  OPENSEARCH_3,
  describeJava,
  findDistribution,
  makeDistribution,
  resolveJavaHome,
  type Distribution,
  type Flavor,
  type JavaLookupOptions,
  type JavaRequirement,
} from './distributions.js';
export { defaultCacheDir, ensureDistribution, type FetchOptions, type LocalDistribution } from './fetch-distribution.js';
export { LocalNode, NODE_USER, findFreePorts, type LocalNodeOptions } from './local-node.js';
