/**
 * The one place where the Elasticsearch / OpenSearch versions we run locally are pinned, and
 * which JDK starts each of them. Everything else (quickstart, the test harness) asks this file.
 *
 * The integ-test zips on Maven Central hold only the server and a few modules, and no JDK, so
 * the JDK is ours to choose: Java 17 for ES 7/8 and OpenSearch 2, Java 21+ for OpenSearch 3
 * (docs/architecture.md, "Facts about the test distributions"). `CCR_FOLLOW_JAVA_HOME` overrides
 * the choice.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Flavor = 'elasticsearch' | 'opensearch';

/** Every failure to fetch, prepare or start a local node. Messages name what is missing. */
export class LocalClusterError extends Error {
  override readonly name = 'LocalClusterError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The JDK a distribution needs: an exact major (17) or a minimum (21 and newer). */
export interface JavaRequirement {
  readonly minMajor: number;
  /** Absent means "any newer major is fine". */
  readonly maxMajor?: number;
}

export interface Distribution {
  readonly flavor: Flavor;
  readonly version: string;
  readonly major: number;
  /** `groupId:artifactId:version:zip`, as `mvn dependency:copy -Dartifact=` takes it. */
  readonly mavenCoordinates: string;
  /** Name of the zip's top-level directory, reused as the unpacked directory in the cache. */
  readonly dirName: string;
  /** File name `mvn dependency:copy` gives the zip. */
  readonly zipName: string;
  /** Launcher script, relative to the unpacked distribution. */
  readonly startScript: string;
  readonly java: JavaRequirement;
  /** Environment variable names the launcher scripts read (they differ by flavor). */
  readonly env: { readonly pathConf: string; readonly javaHome: string; readonly javaOpts: string; readonly tmpDir: string };
}

const MAVEN_GROUP: Record<Flavor, string> = {
  elasticsearch: 'org.elasticsearch.distribution.integ-test-zip',
  opensearch: 'org.opensearch.distribution.integ-test-zip',
};

const ENV_NAMES: Record<Flavor, Distribution['env']> = {
  elasticsearch: { pathConf: 'ES_PATH_CONF', javaHome: 'ES_JAVA_HOME', javaOpts: 'ES_JAVA_OPTS', tmpDir: 'ES_TMPDIR' },
  opensearch: { pathConf: 'OPENSEARCH_PATH_CONF', javaHome: 'OPENSEARCH_JAVA_HOME', javaOpts: 'OPENSEARCH_JAVA_OPTS', tmpDir: 'OPENSEARCH_TMPDIR' },
};

/**
 * Describes any published integ-test zip. Used for the pinned table below, and by tests that need
 * a version Maven does not have.
 */
export function makeDistribution(flavor: Flavor, version: string): Distribution {
  const major = Number.parseInt(version, 10);
  const artifactId = flavor;
  // OpenSearch 3 is built for Java 21; everything else we run was verified on Java 17.
  const java: JavaRequirement = flavor === 'opensearch' && major >= 3 ? { minMajor: 21 } : { minMajor: 17, maxMajor: 17 };
  return {
    flavor,
    version,
    major,
    mavenCoordinates: `${MAVEN_GROUP[flavor]}:${artifactId}:${version}:zip`,
    dirName: `${artifactId}-${version}`,
    zipName: `${artifactId}-${version}.zip`,
    startScript: `bin/${flavor}`,
    java,
    env: ENV_NAMES[flavor],
  };
}

/** The pinned versions. Defaults first; the others are known to start (Java 17, or 21+ for OpenSearch 3). */
export const ELASTICSEARCH_8 = makeDistribution('elasticsearch', '8.19.21');
export const OPENSEARCH_2 = makeDistribution('opensearch', '2.19.6');
export const ELASTICSEARCH_7 = makeDistribution('elasticsearch', '7.17.29');
export const OPENSEARCH_3 = makeDistribution('opensearch', '3.6.0');

export const KNOWN_DISTRIBUTIONS: readonly Distribution[] = [ELASTICSEARCH_8, OPENSEARCH_2, ELASTICSEARCH_7, OPENSEARCH_3];

export const DEFAULT_DISTRIBUTIONS: Readonly<Record<Flavor, Distribution>> = {
  elasticsearch: ELASTICSEARCH_8,
  opensearch: OPENSEARCH_2,
};

/** A known distribution by flavor and version (default version when omitted). */
export function findDistribution(flavor: Flavor, version?: string): Distribution {
  if (version === undefined) return DEFAULT_DISTRIBUTIONS[flavor];
  const found = KNOWN_DISTRIBUTIONS.find((d) => d.flavor === flavor && d.version === version);
  if (!found) {
    const known = KNOWN_DISTRIBUTIONS.filter((d) => d.flavor === flavor).map((d) => d.version).join(', ');
    throw new LocalClusterError(`Unknown ${flavor} version ${version} (known: ${known})`);
  }
  return found;
}

export function describeJava(req: JavaRequirement): string {
  return req.maxMajor === req.minMajor ? `Java ${req.minMajor}` : `Java ${req.minMajor}+`;
}

export interface JavaLookupOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Where JDKs are installed; Debian/Ubuntu and the Temurin packages use /usr/lib/jvm. */
  readonly jvmDir?: string;
}

const DEFAULT_JVM_DIR = '/usr/lib/jvm';
/** Debian's and Ubuntu's Java 17; preferred over other Java 17 dirs so runs are repeatable. */
const PREFERRED_JAVA_17 = 'java-17-openjdk-amd64';

/**
 * The JDK home that starts `dist`, checked to contain `bin/java`. Throws a LocalClusterError naming
 * the path (or the directory searched) when it is missing, so a run fails before any download.
 */
export function resolveJavaHome(dist: Distribution, opts: JavaLookupOptions = {}): string {
  const env = opts.env ?? process.env;
  const override = env['CCR_FOLLOW_JAVA_HOME'];
  if (override) {
    if (!hasJava(override)) {
      throw new LocalClusterError(`Java not found at ${override} (set by CCR_FOLLOW_JAVA_HOME): no bin/java there`);
    }
    return override;
  }
  const jvmDir = opts.jvmDir ?? DEFAULT_JVM_DIR;
  const wanted = describeJava(dist.java);
  const preferred = join(jvmDir, PREFERRED_JAVA_17);
  if (dist.java.minMajor === 17 && dist.java.maxMajor === 17 && hasJava(preferred)) return preferred;

  const candidates = listJdks(jvmDir)
    .filter((j) => j.major >= dist.java.minMajor && (dist.java.maxMajor === undefined || j.major <= dist.java.maxMajor))
    .sort((a, b) => b.major - a.major || a.home.localeCompare(b.home));
  const best = candidates[0];
  if (best) return best.home;

  const where = dist.java.maxMajor === 17 ? `at ${preferred}` : `under ${jvmDir} (looked for a JDK ${dist.java.minMajor} or newer, e.g. temurin-25-jdk-amd64)`;
  throw new LocalClusterError(
    `${wanted} not found ${where}; ${dist.flavor} ${dist.version} needs it. Install it or set CCR_FOLLOW_JAVA_HOME.`,
  );
}

function hasJava(home: string): boolean {
  return existsSync(join(home, 'bin', 'java'));
}

/** JDK dirs whose name carries a major version: java-17-openjdk-amd64, temurin-25-jdk-amd64, java-1.17.0-…. */
function listJdks(jvmDir: string): { home: string; major: number }[] {
  let names: string[];
  try {
    names = readdirSync(jvmDir);
  } catch {
    return [];
  }
  const jdks: { home: string; major: number }[] = [];
  for (const name of names) {
    const match = /-(?:1\.)?(\d+)(?=[.-]|$)/.exec(name);
    const home = join(jvmDir, name);
    if (match?.[1] && hasJava(home)) jdks.push({ home, major: Number(match[1]) });
  }
  return jdks;
}
