//! Reading a [`Catalog`] from `pg_catalog`: one query per object kind, every value turned
//! into text by Postgres itself (`format_type`, `pg_get_*def`, `aclitem::text`) so that the
//! snapshot holds what the SQL decided and nothing that differs between two databases
//! built from it (oids, the database name, statistics).

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::migrate::store::{quote_ident, quote_literal};

use super::{
    Catalog, Column, Constraint, Enum, Extension, Function, Index, Schema, Sequence, Table,
    Trigger, View,
};

/// What to leave out of a snapshot besides system schemas and extension members.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The schema of devdb's record tables (`devdb_revisions`, `devdb_seeds`), which are
    /// left out.
    pub history_schema: String,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            history_schema: "public".to_string(),
        }
    }
}

/// Namespaces of user objects, for a `pg_namespace` aliased `n`.
macro_rules! user_namespace {
    () => {
        " n.nspname NOT IN ('pg_catalog', 'information_schema') \
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
    };
}

/// Not a member of an extension: `$catalog` is the object's catalog, `$oid` its oid.
macro_rules! not_in_extension {
    ($catalog:literal, $oid:literal) => {
        concat!(
            " NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '",
            $catalog,
            "'::regclass AND e.objid = ",
            $oid,
            " AND e.deptype = 'e') "
        )
    };
}

/// Not devdb's record table, for a `pg_class` aliased `$class` in namespace `n`; `$1` is
/// the history schema.
macro_rules! not_history_table {
    ($class:literal) => {
        concat!(
            " NOT (n.nspname = $1 AND ",
            $class,
            ".relname IN ('devdb_revisions', 'devdb_seeds')) "
        )
    };
}

/// Sorted grants of an object, the owner's defaults when nothing was granted (so that a
/// GRANT followed by its REVOKE compares equal to never granting).
macro_rules! grants {
    ($acl:literal, $kind:literal, $owner:literal) => {
        concat!(
            "(SELECT coalesce(array_agg(a::text ORDER BY a::text), '{}') FROM unnest(coalesce(",
            $acl,
            ", acldefault('",
            $kind,
            "', ",
            $owner,
            "))) a)"
        )
    };
}

const SCHEMAS: &str = concat!(
    "SELECT n.nspname, obj_description(n.oid, 'pg_namespace'), ",
    grants!("n.nspacl", "n", "n.nspowner"),
    " FROM pg_namespace n WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_namespace", "n.oid"),
);

const EXTENSIONS: &str = "SELECT e.extname, n.nspname, e.extversion \
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

const ENUMS: &str = concat!(
    "SELECT n.nspname, t.typname, array_agg(l.enumlabel::text ORDER BY l.enumsortorder), \
     obj_description(t.oid, 'pg_type') \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_enum l ON l.enumtypid = t.oid WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_type", "t.oid"),
    " GROUP BY n.nspname, t.typname, t.oid"
);

const SEQUENCES: &str = concat!(
    "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
     s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
     (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname FROM pg_depend d \
       JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1), ",
    grants!("c.relacl", "s", "c.relowner"),
    " FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
);

const TABLES: &str = concat!(
    "SELECT n.nspname, c.relname, c.relkind::text, obj_description(c.oid, 'pg_class'), ",
    grants!("c.relacl", "r", "c.relowner"),
    ", c.relrowsecurity, \
     CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
     CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
     (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits h \
       JOIN pg_class pc ON pc.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
       WHERE h.inhrelid = c.oid AND c.relispartition) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const COLUMNS: &str = concat!(
    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
     a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
     a.attgenerated::text, \
     CASE WHEN a.attcollation <> t.typcollation THEN \
       CASE WHEN con.nspname = 'pg_catalog' THEN quote_ident(co.collname) \
       ELSE quote_ident(con.nspname) || '.' || quote_ident(co.collname) END END, \
     col_description(c.oid, a.attnum), \
     (SELECT coalesce(array_agg(g::text ORDER BY g::text), '{}') FROM unnest(a.attacl) g) \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     LEFT JOIN pg_collation co ON co.oid = a.attcollation \
     LEFT JOIN pg_namespace con ON con.oid = co.collnamespace \
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c"),
    " ORDER BY n.nspname, c.relname, a.attnum"
);

const CONSTRAINTS: &str = concat!(
    "SELECT n.nspname, c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), \
     obj_description(k.oid, 'pg_constraint'), k.conparentid <> 0 OR NOT k.conislocal \
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const INDEXES: &str = concat!(
    "SELECT n.nspname, ic.relname, tn.nspname || '.' || c.relname, \
     pg_get_indexdef(i.indexrelid), obj_description(ic.oid, 'pg_class'), ic.relispartition \
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
     JOIN pg_class c ON c.oid = i.indrelid \
     JOIN pg_namespace tn ON tn.oid = c.relnamespace \
     JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND NOT (tn.nspname = $1 AND c.relname IN ('devdb_revisions', 'devdb_seeds')) \
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
       AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"
);

/// What an object depends on, from `pg_depend`, sorted: user relations (`schema.name`),
/// their columns (`schema.name.column`), enum types (`schema.name`) and functions
/// (`schema.name(args)`); `$classid` and `$objid` name the object's dependent entries.
macro_rules! depends_on {
    ($classid:literal, $objid:literal) => {
        concat!(
            "(SELECT coalesce(array_agg(DISTINCT x.name ORDER BY x.name), '{}') FROM ( \
               SELECT rn.nspname || '.' || rc.relname AS name FROM pg_depend d \
               JOIN pg_class rc ON rc.oid = d.refobjid \
               JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
               WHERE d.classid = '",
            $classid,
            "'::regclass AND d.objid = ",
            $objid,
            " AND d.refclassid = 'pg_class'::regclass \
               AND rn.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION \
               SELECT rn.nspname || '.' || rc.relname || '.' || a.attname FROM pg_depend d \
               JOIN pg_class rc ON rc.oid = d.refobjid \
               JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
               JOIN pg_attribute a ON a.attrelid = rc.oid AND a.attnum = d.refobjsubid \
               WHERE d.classid = '",
            $classid,
            "'::regclass AND d.objid = ",
            $objid,
            " AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 \
               AND rn.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION \
               SELECT tn.nspname || '.' || e.typname FROM pg_depend d \
               JOIN pg_type t ON t.oid = d.refobjid \
               JOIN pg_type e ON e.oid = CASE WHEN t.typtype = 'e' THEN t.oid ELSE t.typelem END \
                 AND e.typtype = 'e' \
               JOIN pg_namespace tn ON tn.oid = e.typnamespace \
               WHERE d.classid = '",
            $classid,
            "'::regclass AND d.objid = ",
            $objid,
            " AND d.refclassid = 'pg_type'::regclass \
               AND tn.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION \
               SELECT rn.nspname || '.' || rc.relname FROM pg_depend d \
               JOIN pg_type t ON t.oid = d.refobjid \
               JOIN pg_class rc ON rc.oid = CASE WHEN t.typrelid <> 0 THEN t.typrelid \
                 ELSE (SELECT e.typrelid FROM pg_type e WHERE e.oid = t.typelem) END \
               JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
               WHERE d.classid = '",
            $classid,
            "'::regclass AND d.objid = ",
            $objid,
            " AND d.refclassid = 'pg_type'::regclass \
               AND rn.nspname NOT IN ('pg_catalog', 'information_schema') \
             UNION \
               SELECT pn.nspname || '.' || p.proname || '(' \
                 || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_depend d \
               JOIN pg_proc p ON p.oid = d.refobjid \
               JOIN pg_namespace pn ON pn.oid = p.pronamespace \
               WHERE d.classid = '",
            $classid,
            "'::regclass AND d.objid = ",
            $objid,
            " AND d.refclassid = 'pg_proc'::regclass \
               AND pn.nspname NOT IN ('pg_catalog', 'information_schema') \
             ) x)"
        )
    };
}

const VIEWS: &str = concat!(
    "SELECT n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid), \
     obj_description(c.oid, 'pg_class'), c.relispopulated, ",
    grants!("c.relacl", "r", "c.relowner"),
    ", (SELECT coalesce(array_agg(DISTINCT dep ORDER BY dep), '{}') \
         FROM pg_rewrite r, unnest(",
    depends_on!("pg_rewrite", "r.oid"),
    ") dep WHERE r.ev_class = c.oid AND dep <> n.nspname || '.' || c.relname)",
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('v', 'm') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
);

const FUNCTIONS: &str = concat!(
    "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind::text, \
     CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END, l.lanname, p.prosrc, \
     CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END, \
     obj_description(p.oid, 'pg_proc'), ",
    grants!("p.proacl", "f", "p.proowner"),
    ", ",
    depends_on!("pg_proc", "p.oid"),
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
     JOIN pg_language l ON l.oid = p.prolang WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_proc", "p.oid"),
);

/// `schema.name` of the function whose oid is `$oid`, quoted as needed; NULL for none.
macro_rules! function_name {
    ($oid:literal) => {
        concat!(
            "(SELECT format('%I.%I', fn.nspname, fp.proname) FROM pg_proc fp \
             JOIN pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = ",
            $oid,
            ")"
        )
    };
}

const AGGREGATES: &str = concat!(
    "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), \
     pg_get_function_arguments(p.oid), a.aggkind::text, ",
    function_name!("a.aggtransfn"),
    ", format_type(a.aggtranstype, NULL), a.aggtransspace, ",
    function_name!("a.aggfinalfn"),
    ", a.aggfinalextra, a.aggfinalmodify::text, ",
    function_name!("a.aggcombinefn"),
    ", ",
    function_name!("a.aggserialfn"),
    ", ",
    function_name!("a.aggdeserialfn"),
    ", a.agginitval, ",
    function_name!("a.aggmtransfn"),
    ", ",
    function_name!("a.aggminvtransfn"),
    ", CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END, \
     a.aggmtransspace, ",
    function_name!("a.aggmfinalfn"),
    ", a.aggmfinalextra, a.aggmfinalmodify::text, a.aggminitval, \
     (SELECT format('OPERATOR(%I.%s)', opn.nspname, o.oprname) FROM pg_operator o \
       JOIN pg_namespace opn ON opn.oid = o.oprnamespace WHERE o.oid = a.aggsortop), \
     p.proparallel::text \
     FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid \
     JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_proc", "p.oid"),
);

/// Triggers, without the clones Postgres makes on partitions of a partitioned table's
/// trigger (`tgparentid`): they come with the parent's.
const TRIGGERS: &str = concat!(
    "SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text, \
     obj_description(t.oid, 'pg_trigger') \
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

async fn rows(
    conn: &mut PgConnection,
    sql: &'static str,
    options: &ReadOptions,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let query = sqlx::query(sql);
    // Only the queries that can meet the record table name it.
    let query = if sql.contains("$1") {
        query.bind(&options.history_schema)
    } else {
        query
    };
    query.fetch_all(conn).await
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

/// Reads the schema of the database behind `conn`.
pub async fn read_catalog(
    conn: &mut PgConnection,
    options: &ReadOptions,
) -> Result<Catalog, sqlx::Error> {
    let mut catalog = Catalog::default();
    let version: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
        .fetch_one(&mut *conn)
        .await?;
    catalog.server_version = version.parse().unwrap_or_default();
    for row in rows(conn, SCHEMAS, options).await? {
        let schema = Schema {
            name: row.try_get(0)?,
            comment: row.try_get(1)?,
            grants: row.try_get(2)?,
        };
        catalog.schemas.insert(schema.name.clone(), schema);
    }
    for row in sqlx::query(EXTENSIONS).fetch_all(&mut *conn).await? {
        let extension = Extension {
            name: row.try_get(0)?,
            schema: row.try_get(1)?,
            version: row.try_get(2)?,
        };
        catalog.extensions.insert(extension.name.clone(), extension);
    }
    for row in rows(conn, ENUMS, options).await? {
        let e = Enum {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            labels: row.try_get(2)?,
            comment: row.try_get(3)?,
        };
        catalog.enums.insert(qualified(&e.schema, &e.name), e);
    }
    for row in rows(conn, SEQUENCES, options).await? {
        let s = Sequence {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            data_type: row.try_get(2)?,
            start: row.try_get(3)?,
            increment: row.try_get(4)?,
            min: row.try_get(5)?,
            max: row.try_get(6)?,
            cache: row.try_get(7)?,
            cycle: row.try_get(8)?,
            owned_by: row.try_get(9)?,
            grants: row.try_get(10)?,
        };
        catalog.sequences.insert(qualified(&s.schema, &s.name), s);
    }
    read_tables(conn, options, &mut catalog).await?;
    for row in rows(conn, INDEXES, options).await? {
        let i = Index {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            table: row.try_get(2)?,
            definition: row.try_get(3)?,
            comment: row.try_get(4)?,
            inherited: row.try_get(5)?,
        };
        catalog.indexes.insert(qualified(&i.schema, &i.name), i);
    }
    for row in rows(conn, VIEWS, options).await? {
        let v = View {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            materialized: row.try_get(2)?,
            populated: row.try_get(5)?,
            definition: row.try_get(3)?,
            triggers: BTreeMap::new(),
            comment: row.try_get(4)?,
            grants: row.try_get(6)?,
            depends_on: row.try_get(7)?,
        };
        catalog.views.insert(qualified(&v.schema, &v.name), v);
    }
    for row in rows(conn, FUNCTIONS, options).await? {
        let kind: String = row.try_get(3)?;
        let f = Function {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            arguments: row.try_get(2)?,
            kind: function_kind(&kind).to_string(),
            result: row.try_get(4)?,
            language: row.try_get(5)?,
            body: row.try_get(6)?,
            definition: row.try_get(7)?,
            comment: row.try_get(8)?,
            grants: row.try_get(9)?,
            depends_on: row.try_get(10)?,
        };
        let key = format!("{}({})", qualified(&f.schema, &f.name), f.arguments);
        catalog.functions.insert(key, f);
    }
    for row in rows(conn, AGGREGATES, options).await? {
        let (schema, name): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let key = format!(
            "{}({})",
            qualified(&schema, &name),
            row.try_get::<String, _>(2)?
        );
        if let Some(f) = catalog.functions.get_mut(&key) {
            f.definition = Some(aggregate_definition(&row)?);
        }
    }
    for row in rows(conn, TRIGGERS, options).await? {
        let relation = qualified(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?);
        let t = Trigger {
            name: row.try_get(2)?,
            definition: row.try_get(3)?,
            enabled: row.try_get(4)?,
            comment: row.try_get(5)?,
        };
        if let Some(table) = catalog.tables.get_mut(&relation) {
            table.triggers.insert(t.name.clone(), t);
        } else if let Some(view) = catalog.views.get_mut(&relation) {
            view.triggers.insert(t.name.clone(), t);
        }
    }
    Ok(catalog)
}

async fn read_tables(
    conn: &mut PgConnection,
    options: &ReadOptions,
    catalog: &mut Catalog,
) -> Result<(), sqlx::Error> {
    for row in rows(conn, TABLES, options).await? {
        let kind: String = row.try_get(2)?;
        let t = Table {
            schema: row.try_get(0)?,
            name: row.try_get(1)?,
            kind: if kind == "p" {
                "partitioned table"
            } else {
                "table"
            }
            .to_string(),
            comment: row.try_get(3)?,
            grants: row.try_get(4)?,
            row_security: row.try_get(5)?,
            partition_key: row.try_get(6)?,
            partition_bound: row.try_get(7)?,
            partition_of: row.try_get(8)?,
            ..Table::default()
        };
        catalog.tables.insert(qualified(&t.schema, &t.name), t);
    }
    for row in rows(conn, COLUMNS, options).await? {
        let relation = qualified(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?);
        let expression: Option<String> = row.try_get(5)?;
        let identity: String = row.try_get(6)?;
        let generated: String = row.try_get(7)?;
        let is_generated = !generated.is_empty();
        let column = Column {
            name: row.try_get(2)?,
            data_type: row.try_get(3)?,
            not_null: row.try_get(4)?,
            default: if is_generated {
                None
            } else {
                expression.clone()
            },
            identity: match identity.as_str() {
                "a" => Some("always".to_string()),
                "d" => Some("by default".to_string()),
                _ => None,
            },
            generated: if is_generated { expression } else { None },
            collation: row.try_get(8)?,
            comment: row.try_get(9)?,
            grants: row.try_get(10)?,
        };
        if let Some(table) = catalog.tables.get_mut(&relation) {
            table.columns.push(column);
        }
    }
    for row in rows(conn, CONSTRAINTS, options).await? {
        let relation = qualified(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?);
        let kind: String = row.try_get(3)?;
        let constraint = Constraint {
            name: row.try_get(2)?,
            kind: constraint_kind(&kind).to_string(),
            definition: row.try_get(4)?,
            comment: row.try_get(5)?,
            inherited: row.try_get(6)?,
        };
        // A foreign key to a partitioned table has copies of the same name for each
        // partition it references: the one written by hand is the one kept.
        if let Some(table) = catalog.tables.get_mut(&relation)
            && table
                .constraints
                .get(&constraint.name)
                .is_none_or(|existing| existing.inherited)
        {
            table
                .constraints
                .insert(constraint.name.clone(), constraint);
        }
    }
    Ok(())
}

/// The `CREATE OR REPLACE AGGREGATE` statement of a row of [`AGGREGATES`]: every option
/// that is set, in a fixed order, so that equal aggregates give equal text.
fn aggregate_definition(row: &PgRow) -> Result<String, sqlx::Error> {
    let text = |index: usize| row.try_get::<Option<String>, _>(index);
    let modify = |index: usize| -> Result<&'static str, sqlx::Error> {
        Ok(match row.try_get::<String, _>(index)?.as_str() {
            "s" => "SHAREABLE",
            "w" => "READ_WRITE",
            _ => "READ_ONLY",
        })
    };
    let mut options: Vec<String> = Vec::new();
    // The plain and the moving-aggregate halves have the same shape at different columns.
    for (prefix, first) in [("S", 5), ("MS", 15)] {
        let m = if prefix == "S" { "" } else { "M" };
        if let Some(function) = text(first)? {
            options.push(format!("{prefix}FUNC = {function}"));
        }
        let (type_at, space_at) = if prefix == "S" { (6, 7) } else { (17, 18) };
        if prefix == "MS"
            && let Some(inverse) = text(16)?
        {
            options.push(format!("MINVFUNC = {inverse}"));
        }
        if let Some(state) = text(type_at)? {
            options.push(format!("{prefix}TYPE = {state}"));
        }
        let space: i32 = row.try_get(space_at)?;
        if space != 0 {
            options.push(format!("{prefix}SPACE = {space}"));
        }
        let final_at = if prefix == "S" { 8 } else { 19 };
        if let Some(function) = text(final_at)? {
            options.push(format!("{m}FINALFUNC = {function}"));
            if row.try_get::<bool, _>(final_at + 1)? {
                options.push(format!("{m}FINALFUNC_EXTRA"));
            }
            options.push(format!("{m}FINALFUNC_MODIFY = {}", modify(final_at + 2)?));
        }
        if prefix == "S" {
            for (option, index) in [
                ("COMBINEFUNC", 11),
                ("SERIALFUNC", 12),
                ("DESERIALFUNC", 13),
            ] {
                if let Some(function) = text(index)? {
                    options.push(format!("{option} = {function}"));
                }
            }
        }
        let initial_at = if prefix == "S" { 14 } else { 22 };
        if let Some(initial) = text(initial_at)? {
            options.push(format!("{m}INITCOND = {}", quote_literal(&initial)));
        }
    }
    if let Some(operator) = text(23)? {
        options.push(format!("SORTOP = {operator}"));
    }
    match row.try_get::<String, _>(24)?.as_str() {
        "s" => options.push("PARALLEL = SAFE".into()),
        "r" => options.push("PARALLEL = RESTRICTED".into()),
        _ => {}
    }
    if row.try_get::<String, _>(4)? == "h" {
        options.push("HYPOTHETICAL".into());
    }
    Ok(format!(
        "CREATE OR REPLACE AGGREGATE {}.{}({}) (\n    {}\n)",
        quote_ident(&row.try_get::<String, _>(0)?),
        quote_ident(&row.try_get::<String, _>(1)?),
        row.try_get::<String, _>(3)?,
        options.join(",\n    ")
    ))
}

fn function_kind(code: &str) -> &'static str {
    match code {
        "p" => "procedure",
        "a" => "aggregate",
        "w" => "window",
        _ => "function",
    }
}

fn constraint_kind(code: &str) -> &'static str {
    match code {
        "p" => "primary key",
        "u" => "unique",
        "f" => "foreign key",
        "c" => "check",
        "x" => "exclusion",
        "n" => "not null",
        "t" => "trigger",
        _ => "constraint",
    }
}
