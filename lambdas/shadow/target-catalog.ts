// What a shadow refresh needs to know of an existing target table, from the catalog: what would
// stop it being replaced (objects that depend on it, partitioning, another owner), and what the new
// table must get back (indexes, constraints, triggers, policies, grants, comment, owner, …).
// Definitions are read with search_path = pg_catalog, so every name in them is schema-qualified.
import type { PoolClient } from '../shared/db.ts';

export interface TargetObjects {
  readonly oid: number;
  /** Objects that would keep `DROP TABLE` from working or break silently: views, foreign keys from other tables, functions on its row type, … */
  readonly dependents: readonly string[];
  readonly partitioned: boolean;
  readonly ownedByUs: boolean;
  readonly owner: string;
  readonly indexes: readonly IndexInfo[];
  /** Foreign keys and exclusion constraints (other constraints come with LIKE or with an index). */
  readonly constraints: readonly ConstraintInfo[];
}

export interface IndexInfo {
  readonly name: string;
  /** `CREATE [UNIQUE] INDEX name ON schema.table USING …`, qualified. */
  readonly definition: string;
  /** The part after the table name: ` USING btree (id)`, `… WHERE …`. */
  readonly tail: string;
  readonly unique: boolean;
  /** The constraint this index backs, if any. */
  readonly constraint: { name: string; type: 'p' | 'u' | 'x'; deferrable: boolean; deferred: boolean } | null;
}

export interface ConstraintInfo {
  readonly name: string;
  readonly type: 'f' | 'x';
  readonly definition: string;
}

/** Reads the target in a short read-only transaction of its own. */
export async function readTargetObjects(client: PoolClient, schema: string, table: string): Promise<TargetObjects | undefined> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL search_path = pg_catalog`);
    return await readTargetObjectsHere(client, schema, table);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** The same inside the caller's transaction, whose search_path must be pg_catalog. */
export async function readTargetObjectsHere(client: PoolClient, schema: string, table: string): Promise<TargetObjects | undefined> {
  {
    const t = await client.query<{ oid: number; kind: string; owner: string; mine: boolean; partition: boolean; inherits: boolean }>(
      `SELECT c.oid::int8::float8 AS oid, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner,
              pg_has_role(current_user, c.relowner, 'USAGE') AS mine, c.relispartition AS partition,
              EXISTS (SELECT FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid) AS inherits
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    const row = t.rows[0];
    if (row === undefined) return undefined;
    // Objects of the table itself (its constraints, policies, triggers, defaults, indexes, statistics)
    // depend on its columns too: they are carried over. Everything else is in the way.
    const deps = await client.query<{ what: string }>(
      `SELECT DISTINCT regexp_replace(pg_describe_object(d.classid, d.objid, d.objsubid), '^rule _RETURN on ', '') AS what
         FROM pg_depend d
        WHERE d.deptype = 'n'
          AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::oid)
            OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = (SELECT reltype FROM pg_class WHERE oid = $1::oid)))
          AND NOT (d.classid = 'pg_class'::regclass AND (d.objid = $1::oid OR d.objid IN (SELECT indexrelid FROM pg_index WHERE indrelid = $1::oid)))
          AND NOT (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = $1::oid))
          AND NOT (d.classid = 'pg_policy'::regclass AND d.objid IN (SELECT oid FROM pg_policy WHERE polrelid = $1::oid))
          AND NOT (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT oid FROM pg_trigger WHERE tgrelid = $1::oid))
          AND NOT (d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = $1::oid))
          AND NOT (d.classid = 'pg_statistic_ext'::regclass AND d.objid IN (SELECT oid FROM pg_statistic_ext WHERE stxrelid = $1::oid))
        ORDER BY 1`,
      [row.oid],
    );
    const idx = await client.query<{ name: string; definition: string; prefix: string; unique: boolean; conname: string | null; contype: string | null; deferrable: boolean | null; deferred: boolean | null }>(
      `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique,
              format('CREATE %sINDEX %s ON %s%s.%s', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, quote_ident(ic.relname),
                     CASE WHEN c.relkind = 'p' THEN 'ONLY ' ELSE '' END, quote_ident(n.nspname), quote_ident(c.relname)) AS prefix,
              con.conname, con.contype::text AS contype, con.condeferrable AS deferrable, con.condeferred AS deferred
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
        WHERE i.indrelid = $1::oid
        ORDER BY i.indisprimary DESC, ic.relname`,
      [row.oid],
    );
    const cons = await client.query<{ name: string; type: 'f' | 'x'; definition: string }>(
      `SELECT conname AS name, contype::text AS type, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE conrelid = $1::oid AND contype IN ('f', 'x') ORDER BY conname`,
      [row.oid],
    );
    return {
      oid: row.oid,
      dependents: [...deps.rows.map((d) => d.what), ...(row.inherits ? ['table inheritance (a parent or child table)'] : [])],
      partitioned: row.kind === 'p' || row.partition,
      ownedByUs: row.mine,
      owner: row.owner,
      indexes: idx.rows.map((r) => {
        if (!r.definition.startsWith(`${r.prefix} `)) throw new Error(`unexpected index definition of ${r.name}: ${r.definition}`);
        return {
          name: r.name,
          definition: r.definition,
          tail: r.definition.slice(r.prefix.length),
          unique: r.unique,
          constraint: r.conname === null ? null : { name: r.conname, type: r.contype as 'p' | 'u' | 'x', deferrable: r.deferrable === true, deferred: r.deferred === true },
        };
      }),
      constraints: cons.rows,
    };
  }
}

export interface CarriedOver {
  /** CREATE TRIGGER statements (qualified with the target's name: run them after the rename). */
  readonly triggers: readonly string[];
  readonly policies: readonly string[];
  readonly rowSecurity: { enabled: boolean; forced: boolean };
  readonly comment: string | null;
  readonly owner: string;
  /** GRANT statements, table and column privileges, with `%T` for the table. */
  readonly grants: readonly string[];
  readonly reloptions: readonly string[];
  readonly replicaIdentity: { mode: string; index: string | null };
  /** Sequences owned by the old table's columns (serial): moved to the new table's columns. */
  readonly ownedSequences: readonly { sequence: string; column: string }[];
  /** Identity columns: the new identity sequence continues from the old one's value. */
  readonly identities: readonly { column: string; lastValue: string | null; isCalled: boolean }[];
  readonly publications: readonly string[];
}

/** Reads, inside the swap's transaction (the table locked), everything the new table must get back. */
export async function readCarriedOver(client: PoolClient, oid: number): Promise<CarriedOver> {
  const q = async <R extends Record<string, unknown>>(sql: string) => (await client.query<R>(sql, [oid])).rows;
  const triggers = await q<{ def: string }>(`SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal ORDER BY tgname`);
  const policies = await q<{ name: string; permissive: boolean; cmd: string; roles: string[]; qual: string | null; check: string | null }>(
    `SELECT polname AS name, polpermissive AS permissive, polcmd::text AS cmd,
            ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(polroles) r) AS roles,
            pg_get_expr(polqual, polrelid) AS qual, pg_get_expr(polwithcheck, polrelid) AS check
       FROM pg_policy WHERE polrelid = $1::oid ORDER BY polname`,
  );
  const [table] = await q<{ rls: boolean; force: boolean; comment: string | null; owner: string; reloptions: string[] | null; identity: string; identity_index: string | null }>(
    `SELECT relrowsecurity AS rls, relforcerowsecurity AS force, obj_description(oid, 'pg_class') AS comment, pg_get_userbyid(relowner) AS owner,
            reloptions, relreplident::text AS identity,
            (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1::oid AND i.indisreplident) AS identity_index
       FROM pg_class WHERE oid = $1::oid`,
  );
  const acl = await q<{ grant: string }>(
    `SELECT format('GRANT %s ON %%T TO %s%s', a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS grant
       FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1::oid AND a.grantee <> c.relowner
     UNION ALL
     SELECT format('GRANT %s (%I) ON %%T TO %s%s', a.privilege_type, att.attname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
       FROM pg_attribute att, aclexplode(att.attacl) a WHERE att.attrelid = $1::oid AND att.attnum > 0 AND NOT att.attisdropped`,
  );
  const owned = await q<{ sequence: string; column: string }>(
    `SELECT d.objid::regclass::text AS sequence, a.attname AS column
       FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::oid AND d.deptype = 'a' AND a.attidentity = ''`,
  );
  const identities = await q<{ column: string; seq: string | null }>(
    `SELECT a.attname AS column, pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attrelid = $1::oid AND a.attidentity <> '' AND NOT a.attisdropped`,
  );
  const identityValues: { column: string; lastValue: string | null; isCalled: boolean }[] = [];
  for (const i of identities) {
    if (i.seq === null) continue;
    const v = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${i.seq}`);
    identityValues.push({ column: i.column, lastValue: v.rows[0]?.last_value ?? null, isCalled: v.rows[0]?.is_called ?? false });
  }
  const publications = await q<{ name: string }>(`SELECT p.pubname AS name FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = $1::oid`);
  return {
    triggers: triggers.map((t) => t.def),
    policies: policies.map((p) => {
      const cmd = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' }[p.cmd] ?? 'ALL';
      return `CREATE POLICY ${quoteIdent(p.name)} ON %T AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${cmd} TO ${p.roles.join(', ')}` +
        `${p.qual === null ? '' : ` USING (${p.qual})`}${p.check === null ? '' : ` WITH CHECK (${p.check})`}`;
    }),
    rowSecurity: { enabled: table?.rls ?? false, forced: table?.force ?? false },
    comment: table?.comment ?? null,
    owner: table?.owner ?? '',
    grants: acl.map((a) => a.grant),
    reloptions: table?.reloptions ?? [],
    replicaIdentity: { mode: table?.identity ?? 'd', index: table?.identity_index ?? null },
    ownedSequences: owned,
    identities: identityValues,
    publications: publications.map((p) => p.name),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
