/**
 * `CLUSTER NODES` as data, and whether several nodes' views of the cluster agree (pure). Used by the test
 * clusters in redis-servers.ts: `redis-cli --cluster create` returns once every node says `cluster_state:ok`,
 * but the replicas' roles reach the other nodes by gossip afterwards, so for a while some nodes still list a
 * would-be replica as a master with no slots.
 */
/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  id: string;
  /** host:port */
  addr: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId: string | null;
  /** Slots served, for a master. */
  slots: number[];
  failed: boolean;
}

/** Parses `CLUSTER NODES` (pure). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  const out: ClusterNodeInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    const [id = '', addrRaw = '', flags = '', master = '-'] = f;
    const addr = addrRaw.split('@')[0] ?? '';
    const slots: number[] = [];
    for (const r of f.slice(8)) {
      if (r.startsWith('[')) continue; // a slot being migrated or imported
      const [a, b] = r.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) continue;
      for (let s = a; s <= (b ?? a); s++) slots.push(s);
    }
    out.push({
      id,
      addr,
      port: Number(addr.slice(addr.lastIndexOf(':') + 1)),
      role: flags.includes('master') ? 'master' : 'replica',
      masterId: master === '-' ? null : master,
      slots,
      failed: /\bfail\b|fail\?/.test(flags),
    });
  }
  return out;
}

/** What one view says about a node: role, master and slots; `failed` and `myself` flags are left out. */
function describe(n: ClusterNodeInfo): string {
  return `${n.id} ${n.role} ${n.masterId ?? '-'} ${n.slots.join(',')}`;
}

/**
 * Whether every view describes the same nodes the same way (ids, roles, masters, slots), ignoring nodes any
 * view marks failed, and, when `replicas` is given, whether that many replicas are attached in each.
 */
export function viewsAgree(views: readonly ClusterNodeInfo[][], replicas?: number): boolean {
  if (views.length === 0) return false;
  const failed = new Set(views.flatMap((v) => v.filter((n) => n.failed).map((n) => n.id)));
  const signature = (v: readonly ClusterNodeInfo[]): string =>
    v
      .filter((n) => !failed.has(n.id))
      .map(describe)
      .sort()
      .join('\n');
  const first = signature(views[0] as ClusterNodeInfo[]);
  for (const v of views) {
    if (signature(v) !== first) return false;
    if (replicas !== undefined) {
      const attached = v.filter((n) => n.role === 'replica' && n.masterId !== null && !failed.has(n.id));
      if (attached.length !== replicas) return false;
    }
  }
  return true;
}
