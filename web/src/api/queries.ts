// Every GraphQL document the dashboard sends, in one place, so that a
// schema change is adapted here and nowhere else.

export const LOGIN = `mutation Login($u: String!, $p: String!) {
  login(username: $u, password: $p) { token expiresAt renewalToken user { name role } }
}`;

export const RENEW = `mutation Renew($t: String!) {
  renewToken(renewalToken: $t) { token expiresAt renewalToken user { name role } }
}`;

export const LOGOUT = `mutation { logout { success } }`;

const PATH_FIELDS = `id status
  srcSite { id name } srcEndpoint { id name }
  dstSite { id name } dstEndpoint { id name }
  metrics { latency_ms jitter_ms packet_loss_pct score measured_at }`;

export const OVERVIEW = `query Overview {
  metrics { timestamp throughputMbps packetsPerSecond activeFlows avgLatencyMs avgPacketLoss sites paths pathsUp pathsDegraded pathsDown }
  sites { id name status endpointCount traffic { packets bytes activeFlows } }
}`;

export const TOPOLOGY = `query Topology {
  sites { id name status }
  paths { ${PATH_FIELDS} }
}`;

export const SITES = `query Sites($deleted: Boolean) {
  sites(filter: { deleted: $deleted }) { id name description status prefixes endpointCount deletedAt purgeAfter updatedAt }
}`;

export const SITE = `query Site($id: ID!) {
  site(id: $id) {
    id name description status prefixes deletedAt
    traffic { packets bytes activeFlows flowsOpened }
    endpoints { id name address interface kind costPerGb bandwidthMbps reachable }
    paths { ${PATH_FIELDS} }
  }
}`;

export const SITE_DEPENDENCIES = `query SiteDeps($id: ID!) {
  site(id: $id) { id name dependencies { endpoints paths metrics pathEvents policyStats credentials } }
}`;

export const PATH_HISTORY = `query PathHistory($id: ID!, $from: Time!, $to: Time!, $limit: Int) {
  path(id: $id) { id metricsHistory(from: $from, to: $to, limit: $limit) { latency_ms jitter_ms packet_loss_pct score measured_at } }
}`;

export const PATHS = `query Paths($from: Time, $to: Time) {
  sites { id name }
  paths { ${PATH_FIELDS} createdAt events(from: $from, to: $to, limit: 500) { at kind from to reason } }
}`;

const POLICY_FIELDS = `id name description priority enabled packets_matched bytes_matched active_flows
  matchCriteria { protocol sourceIp destIp sourcePort destPort }
  actions { kind preference link sla { maxLatencyMs maxJitterMs maxLossPct } }`;

export const POLICIES = `query Policies { policies { ${POLICY_FIELDS} } }`;

export const CREATE_POLICY = `mutation CreatePolicy($in: CreatePolicyInput!) { createPolicy(input: $in) { ${POLICY_FIELDS} } }`;
export const UPDATE_POLICY = `mutation UpdatePolicy($in: UpdatePolicyInput!) { updatePolicy(input: $in) { ${POLICY_FIELDS} } }`;
export const DELETE_POLICY = `mutation DeletePolicy($id: ID!) { deletePolicy(id: $id) }`;
export const TOGGLE_POLICY = `mutation TogglePolicy($id: ID!, $on: Boolean!) { togglePolicy(id: $id, enabled: $on) { id enabled } }`;

export const POLICY_HISTORY = `query PolicyHistory($id: ID!, $from: Time!, $to: Time!, $site: ID, $step: Int) {
  policyStatsHistory(policyId: $id, from: $from, to: $to, siteId: $site, stepSeconds: $step, limit: 2000) { timestamp packets_matched bytes_matched active_flows }
}`;

export const METRICS_HISTORY = `query MetricsHistory($from: Time!, $to: Time!, $step: Int) {
  metricsHistory(from: $from, to: $to, intervalSeconds: $step) { timestamp throughputMbps packetsPerSecond activeFlows avgLatencyMs avgPacketLoss }
}`;

export const CREATE_SITE = `mutation CreateSite($in: CreateSiteInput!) { createSite(input: $in) { id name } }`;
export const UPDATE_SITE = `mutation UpdateSite($in: UpdateSiteInput!) { updateSite(input: $in) { id name } }`;
export const DELETE_SITE = `mutation DeleteSite($id: ID!, $hard: Boolean) { deleteSite(site_id: $id, hard: $hard) { success message audit_id } }`;
export const RESTORE_SITE = `mutation RestoreSite($id: ID!) { restoreSite(site_id: $id) { success message } }`;

export const CACHE_STATS = `query { cacheStats { name total active expired hits misses shared } }`;
export const CLEAR_CACHE = `mutation { clearCache { success message cleared_entries } }`;
export const CHECK_PATH = `mutation Check($id: ID!) { checkPathHealth(pathId: $id) { ${PATH_FIELDS} } }`;
export const FAILOVER = `mutation Failover($id: ID!, $target: ID, $reason: String) { failoverPath(pathId: $id, targetPathId: $target, reason: $reason) }`;
export const CLEAR_FAILOVER = `mutation ClearFailover($id: ID!) { clearFailover(pathId: $id) }`;

export const AUDIT = `query Audit($f: AuditFilter, $page: PageInput) {
  auditLog(filter: $f, page: $page) { total entries { id at actor action targetType targetId summary severity } }
}`;

export const USERS = `query { users { id name role active createdAt lastLogin } }`;
export const CREATE_USER = `mutation CreateUser($in: CreateUserInput!) { createUser(input: $in) { id name role } }`;
export const UPDATE_USER_ROLE = `mutation Role($id: ID!, $role: Role!) { updateUserRole(userId: $id, role: $role) { id role } }`;
export const DEACTIVATE_USER = `mutation Deactivate($id: ID!) { deactivateUser(userId: $id) }`;
export const API_KEYS = `query { apiKeys { id prefix name role createdAt lastUsed revokedAt } }`;
export const CREATE_API_KEY = `mutation Key($name: String!, $role: Role!) { createApiKey(name: $name, role: $role) { key apiKey { id prefix name role } } }`;
export const REVOKE_API_KEY = `mutation Revoke($id: ID!) { revokeApiKey(id: $id) { success } }`;

// Subscriptions.
export const SUB_EVENTS = `subscription Events($kinds: [EventKind!]) { events(kinds: $kinds) { kind at siteId pathId policyId auditId severity summary } }`;
export const SUB_PATHS = `subscription PathUpdates($site: ID) { pathUpdates(siteId: $site) { ${PATH_FIELDS} } }`;
export const SUB_METRICS = `subscription { metricsStream(intervalSeconds: 5) { timestamp throughputMbps packetsPerSecond activeFlows avgLatencyMs avgPacketLoss sites paths pathsUp pathsDegraded pathsDown } }`;
export const SUB_POLICIES = `subscription { policyEvents { kind policyId timestamp summary packets bytes policy { ${POLICY_FIELDS} } } }`;

/** The export URL of the REST statistics export. */
export function exportURL(format: 'csv' | 'json' | 'ndjson', from: Date, to: Date, policy?: string, site?: string): string {
  const q = new URLSearchParams({ format, from: from.toISOString(), to: to.toISOString() });
  if (policy) q.set('policy', policy);
  if (site) q.set('site', site);
  return `/api/v1/stats/export?${q}`;
}
