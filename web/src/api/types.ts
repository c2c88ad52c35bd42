// Shapes of what the queries in queries.ts return.

export type Role = 'VIEWER' | 'OPERATOR' | 'ADMIN' | 'EDGE';
export type PathStatus = 'UP' | 'DEGRADED' | 'DOWN';

export interface SessionUser { name: string; role: Role }
export interface Session { token: string; expiresAt: string; renewalToken: string; user: SessionUser }

export interface Ref { id: string; name: string }

export interface PathMetrics {
  latency_ms: number;
  jitter_ms: number;
  packet_loss_pct: number;
  score: number;
  measured_at: string;
}

export interface PathEvent { at: string; kind: string; from: PathStatus | null; to: PathStatus | null; reason: string }

export interface Path {
  id: string;
  status: PathStatus;
  srcSite: Ref | null;
  srcEndpoint: Ref | null;
  dstSite: Ref | null;
  dstEndpoint: Ref | null;
  metrics: PathMetrics | null;
  events?: PathEvent[];
  createdAt?: string;
}

export interface Traffic { packets: number | string; bytes: number | string; activeFlows: number | string; flowsOpened?: number | string }

export interface Endpoint {
  id: string; name: string; address: string; interface: string; kind: string;
  costPerGb: number; bandwidthMbps: number; reachable: boolean;
}

export interface Site {
  id: string;
  name: string;
  description?: string;
  status: 'ACTIVE' | 'INACTIVE' | 'DEGRADED';
  prefixes?: string[];
  endpointCount?: number;
  deletedAt?: string | null;
  purgeAfter?: string | null;
  updatedAt?: string;
  traffic?: Traffic;
  endpoints?: Endpoint[];
  paths?: Path[];
}

export interface SiteDependencies {
  endpoints: number; paths: number; metrics: number; pathEvents: number; policyStats: number; credentials: number;
}

export interface Sla { maxLatencyMs: number; maxJitterMs: number; maxLossPct: number }

export interface Policy {
  id: string;
  name: string;
  description: string;
  priority: number;
  enabled: boolean;
  packets_matched: number | string;
  bytes_matched: number | string;
  active_flows: number | string;
  matchCriteria: { protocol: string | null; sourceIp: string | null; destIp: string | null; sourcePort: string | null; destPort: string | null };
  actions: { kind: 'STEER' | 'DROP'; preference: string | null; link: string | null; sla: Sla };
}

export interface SystemMetrics {
  timestamp: string;
  throughputMbps: number;
  packetsPerSecond: number | string;
  activeFlows: number | string;
  avgLatencyMs: number;
  avgPacketLoss: number;
  sites?: number;
  paths?: number;
  pathsUp?: number;
  pathsDegraded?: number;
  pathsDown?: number;
}

export interface LiveEvent {
  kind: string; at: string; siteId: string | null; pathId: string | null; policyId: string | null;
  auditId: string | null; severity: string | null; summary: string;
}

export interface AuditEntry {
  id: string; at: string; actor: string; action: string; targetType: string; targetId: string; summary: string; severity: string;
}

export interface CacheStats { name: string; total: number; active: number; expired: number; hits: number | string; misses: number | string; shared: boolean }

export interface User { id: string; name: string; role: Role; active: boolean; createdAt: string; lastLogin: string | null }
export interface ApiKey { id: string; prefix: string; name: string; role: Role; createdAt: string; lastUsed: string | null; revokedAt: string | null }
