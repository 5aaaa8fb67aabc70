//! Reading a [`Catalog`] from `pg_catalog`: one query per object kind, every value turned
//! into text by Postgres itself (`format_type`, `pg_get_*def`, `aclitem::text`) so that the
//! snapshot holds what the SQL decided and nothing that differs between two databases
//! built from it (oids, the database name, statistics).

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::pg::{quote_ident, quote_literal};

use super::{
    Catalog, Column, ColumnName, Constraint, ConstraintKind, Enum, Extension, Function, Index,
    QualifiedName, RoutineKind, Schema, Sequence, Table, TableKind, Trigger, View,
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

mod unsupported;

pub(crate) use unsupported::NotCompared;

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
    "SELECT n.nspname AS name, obj_description(n.oid, 'pg_namespace') AS comment, ",
    grants!("n.nspacl", "n", "n.nspowner"),
    " AS grants FROM pg_namespace n WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_namespace", "n.oid"),
);

const EXTENSIONS: &str = "SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version, \
     obj_description(e.oid, 'pg_extension') AS comment FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace";

const ENUMS: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS name, \
     array_agg(l.enumlabel::text ORDER BY l.enumsortorder) AS labels, \
     obj_description(t.oid, 'pg_type') AS comment \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_enum l ON l.enumtypid = t.oid WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_type", "t.oid"),
    " GROUP BY n.nspname, t.typname, t.oid"
);

const SEQUENCES: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type, \
     s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, \
     s.seqcache AS cache, s.seqcycle AS cycle, \
     o.schema AS owner_schema, o.table AS owner_table, o.column AS owner_column, ",
    grants!("c.relacl", "s", "c.relowner"),
    " AS grants FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN LATERAL (SELECT tn.nspname AS schema, tc.relname AS table, a.attname AS column \
       FROM pg_depend d \
       JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) o ON true \
     WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
);

const TABLES: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, \
     obj_description(c.oid, 'pg_class') AS comment, ",
    grants!("c.relacl", "r", "c.relowner"),
    " AS grants, c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security, \
     CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
     CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound, \
     (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits h \
       JOIN pg_class pc ON pc.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
       WHERE h.inhrelid = c.oid AND c.relispartition) AS partition_of \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const COLUMNS: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS relation, a.attname AS name, \
     format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
     pg_get_expr(d.adbin, d.adrelid) AS expression, a.attidentity::text AS identity, \
     a.attgenerated::text AS generated, \
     CASE WHEN a.attcollation <> t.typcollation THEN \
       CASE WHEN con.nspname = 'pg_catalog' THEN quote_ident(co.collname) \
       ELSE quote_ident(con.nspname) || '.' || quote_ident(co.collname) END END AS collation, \
     col_description(c.oid, a.attnum) AS comment, \
     (SELECT coalesce(array_agg(g::text ORDER BY g::text), '{}') FROM unnest(a.attacl) g) \
       AS grants \
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
    "SELECT n.nspname AS schema, c.relname AS relation, k.conname AS name, \
     k.contype::text AS kind, pg_get_constraintdef(k.oid) AS definition, \
     obj_description(k.oid, 'pg_constraint') AS comment, \
     k.conparentid <> 0 OR NOT k.conislocal AS inherited, \
     xn.nspname AS index_schema, xc.relname AS index_name \
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_class xc ON xc.oid = k.conindid AND k.contype = 'f' \
     LEFT JOIN pg_namespace xn ON xn.oid = xc.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

const INDEXES: &str = concat!(
    "SELECT n.nspname AS schema, ic.relname AS name, tn.nspname || '.' || c.relname AS table, \
     pg_get_indexdef(i.indexrelid) AS definition, obj_description(ic.oid, 'pg_class') AS comment, \
     ic.relispartition AS inherited \
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

#[macro_use]
mod depends;

const VIEWS: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized, \
     pg_get_viewdef(c.oid) AS definition, obj_description(c.oid, 'pg_class') AS comment, \
     c.relispopulated AS populated, ",
    grants!("c.relacl", "r", "c.relowner"),
    " AS grants, (SELECT coalesce(array_agg(DISTINCT dep ORDER BY dep), '{}') \
         FROM pg_rewrite r, unnest(",
    depends_on!("pg_rewrite", "r.oid"),
    ") dep WHERE r.ev_class = c.oid AND dep <> n.nspname || '.' || c.relname) AS depends_on",
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('v', 'm') AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
);

const FUNCTIONS: &str = concat!(
    "SELECT n.nspname AS schema, p.proname AS name, \
     pg_get_function_identity_arguments(p.oid) AS arguments, p.prokind::text AS kind, \
     CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS result, \
     l.lanname AS language, p.prosrc AS body, \
     CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition, \
     obj_description(p.oid, 'pg_proc') AS comment, ",
    grants!("p.proacl", "f", "p.proowner"),
    " AS grants, ",
    depends_on!("pg_proc", "p.oid"),
    " AS depends_on FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
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
    "SELECT n.nspname AS schema, p.proname AS name, \
     pg_get_function_identity_arguments(p.oid) AS identity_arguments, \
     pg_get_function_arguments(p.oid) AS arguments, a.aggkind::text AS kind, ",
    function_name!("a.aggtransfn"),
    " AS sfunc, format_type(a.aggtranstype, NULL) AS stype, a.aggtransspace AS sspace, ",
    function_name!("a.aggfinalfn"),
    " AS finalfunc, a.aggfinalextra AS finalfunc_extra, \
     a.aggfinalmodify::text AS finalfunc_modify, ",
    function_name!("a.aggcombinefn"),
    " AS combinefunc, ",
    function_name!("a.aggserialfn"),
    " AS serialfunc, ",
    function_name!("a.aggdeserialfn"),
    " AS deserialfunc, a.agginitval AS initcond, ",
    function_name!("a.aggmtransfn"),
    " AS msfunc, ",
    function_name!("a.aggminvtransfn"),
    " AS minvfunc, \
     CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END AS mstype, \
     a.aggmtransspace AS msspace, ",
    function_name!("a.aggmfinalfn"),
    " AS mfinalfunc, a.aggmfinalextra AS mfinalfunc_extra, \
     a.aggmfinalmodify::text AS mfinalfunc_modify, a.aggminitval AS minitcond, \
     (SELECT format('OPERATOR(%I.%s)', opn.nspname, o.oprname) FROM pg_operator o \
       JOIN pg_namespace opn ON opn.oid = o.oprnamespace WHERE o.oid = a.aggsortop) AS sortop, \
     p.proparallel::text AS parallel \
     FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid \
     JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_proc", "p.oid"),
);

/// Triggers, without the clones Postgres makes on partitions of a partitioned table's
/// trigger (`tgparentid`): they come with the parent's.
const TRIGGERS: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS relation, t.tgname AS name, \
     pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled, \
     obj_description(t.oid, 'pg_trigger') AS comment \
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_class", "c.oid"),
    " AND ",
    not_history_table!("c")
);

mod security;
mod types;

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
            name: row.try_get("name")?,
            comment: row.try_get("comment")?,
            grants: row.try_get("grants")?,
        };
        catalog.schemas.insert(schema.name.clone(), schema);
    }
    for row in sqlx::query(EXTENSIONS).fetch_all(&mut *conn).await? {
        let extension = Extension {
            name: row.try_get("name")?,
            schema: row.try_get("schema")?,
            version: row.try_get("version")?,
            comment: row.try_get("comment")?,
        };
        catalog.extensions.insert(extension.name.clone(), extension);
    }
    for row in rows(conn, ENUMS, options).await? {
        let e = Enum {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            labels: row.try_get("labels")?,
            comment: row.try_get("comment")?,
        };
        catalog.enums.insert(qualified(&e.schema, &e.name), e);
    }
    for row in rows(conn, SEQUENCES, options).await? {
        let s = Sequence {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            data_type: row.try_get("data_type")?,
            start: row.try_get("start")?,
            increment: row.try_get("increment")?,
            min: row.try_get("min")?,
            max: row.try_get("max")?,
            cache: row.try_get("cache")?,
            cycle: row.try_get("cycle")?,
            owned_by: row
                .try_get::<Option<String>, _>("owner_column")?
                .map(|column| -> Result<_, sqlx::Error> {
                    let (schema, table) =
                        (row.try_get("owner_schema")?, row.try_get("owner_table")?);
                    Ok(ColumnName {
                        schema,
                        table,
                        column,
                    })
                })
                .transpose()?,
            grants: row.try_get("grants")?,
        };
        catalog.sequences.insert(qualified(&s.schema, &s.name), s);
    }
    read_tables(conn, options, &mut catalog).await?;
    for row in rows(conn, INDEXES, options).await? {
        let i = Index {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            table: row.try_get("table")?,
            definition: row.try_get("definition")?,
            comment: row.try_get("comment")?,
            inherited: row.try_get("inherited")?,
        };
        catalog.indexes.insert(qualified(&i.schema, &i.name), i);
    }
    for row in rows(conn, VIEWS, options).await? {
        let v = View {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            materialized: row.try_get("materialized")?,
            populated: row.try_get("populated")?,
            definition: row.try_get("definition")?,
            triggers: BTreeMap::new(),
            comment: row.try_get("comment")?,
            grants: row.try_get("grants")?,
            depends_on: row.try_get("depends_on")?,
        };
        catalog.views.insert(qualified(&v.schema, &v.name), v);
    }
    for row in rows(conn, FUNCTIONS, options).await? {
        let kind: String = row.try_get("kind")?;
        let f = Function {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            arguments: row.try_get("arguments")?,
            kind: function_kind(&kind),
            result: row.try_get("result")?,
            language: row.try_get("language")?,
            body: row.try_get("body")?,
            definition: row.try_get("definition")?,
            comment: row.try_get("comment")?,
            grants: row.try_get("grants")?,
            depends_on: row.try_get("depends_on")?,
        };
        let key = format!("{}({})", qualified(&f.schema, &f.name), f.arguments);
        catalog.functions.insert(key, f);
    }
    for row in rows(conn, AGGREGATES, options).await? {
        let (schema, name): (String, String) = (row.try_get("schema")?, row.try_get("name")?);
        let key = format!(
            "{}({})",
            qualified(&schema, &name),
            row.try_get::<String, _>("identity_arguments")?
        );
        if let Some(f) = catalog.functions.get_mut(&key) {
            f.definition = Some(aggregate_definition(&row)?);
        }
    }
    for row in rows(conn, TRIGGERS, options).await? {
        let relation = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("relation")?,
        );
        let t = Trigger {
            name: row.try_get("name")?,
            definition: row.try_get("definition")?,
            enabled: row.try_get("enabled")?,
            comment: row.try_get("comment")?,
        };
        if let Some(table) = catalog.tables.get_mut(&relation) {
            table.triggers.insert(t.name.clone(), t);
        } else if let Some(view) = catalog.views.get_mut(&relation) {
            view.triggers.insert(t.name.clone(), t);
        }
    }
    security::read_security(conn, options, &mut catalog).await?;
    catalog.not_compared = unsupported::not_compared(conn).await?;
    types::read_types_and_storage(conn, options, &mut catalog).await?;
    Ok(catalog)
}

async fn read_tables(
    conn: &mut PgConnection,
    options: &ReadOptions,
    catalog: &mut Catalog,
) -> Result<(), sqlx::Error> {
    for row in rows(conn, TABLES, options).await? {
        let kind: String = row.try_get("kind")?;
        let t = Table {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            kind: if kind == "p" {
                TableKind::Partitioned
            } else {
                TableKind::Table
            },
            comment: row.try_get("comment")?,
            grants: row.try_get("grants")?,
            row_security: row.try_get("row_security")?,
            force_row_security: row.try_get("force_row_security")?,
            partition_key: row.try_get("partition_key")?,
            partition_bound: row.try_get("partition_bound")?,
            partition_of: row.try_get("partition_of")?,
            ..Table::default()
        };
        catalog.tables.insert(qualified(&t.schema, &t.name), t);
    }
    for row in rows(conn, COLUMNS, options).await? {
        let relation = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("relation")?,
        );
        let expression: Option<String> = row.try_get("expression")?;
        let identity: String = row.try_get("identity")?;
        let generated: String = row.try_get("generated")?;
        let is_generated = !generated.is_empty();
        let column = Column {
            name: row.try_get("name")?,
            data_type: row.try_get("data_type")?,
            not_null: row.try_get("not_null")?,
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
            collation: row.try_get("collation")?,
            comment: row.try_get("comment")?,
            grants: row.try_get("grants")?,
            ..Column::default()
        };
        if let Some(table) = catalog.tables.get_mut(&relation) {
            table.columns.push(column);
        }
    }
    for row in rows(conn, CONSTRAINTS, options).await? {
        let relation = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("relation")?,
        );
        let kind: String = row.try_get("kind")?;
        let constraint = Constraint {
            name: row.try_get("name")?,
            kind: constraint_kind(&kind),
            definition: row.try_get("definition")?,
            comment: row.try_get("comment")?,
            inherited: row.try_get("inherited")?,
            index: row
                .try_get::<Option<String>, _>("index_name")?
                .map(|name| {
                    Ok::<_, sqlx::Error>(QualifiedName {
                        schema: row.try_get("index_schema")?,
                        name,
                    })
                })
                .transpose()?,
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
    let text = |column: &str| row.try_get::<Option<String>, _>(column);
    let modify = |column: &str| -> Result<&'static str, sqlx::Error> {
        Ok(match row.try_get::<String, _>(column)?.as_str() {
            "s" => "SHAREABLE",
            "w" => "READ_WRITE",
            _ => "READ_ONLY",
        })
    };
    let mut options: Vec<String> = Vec::new();
    // The plain and the moving-aggregate halves have the same shape: the moving one's
    // columns are named with an `m` in front, as its options are.
    for m in ["", "m"] {
        let prefix = format!("{m}s");
        let option = |name: &str| format!("{m}{name}").to_uppercase();
        if let Some(function) = text(&format!("{prefix}func"))? {
            options.push(format!("{} = {function}", option("sfunc")));
        }
        if m == "m"
            && let Some(inverse) = text("minvfunc")?
        {
            options.push(format!("MINVFUNC = {inverse}"));
        }
        if let Some(state) = text(&format!("{prefix}type"))? {
            options.push(format!("{} = {state}", option("stype")));
        }
        let space: i32 = row.try_get(format!("{prefix}space").as_str())?;
        if space != 0 {
            options.push(format!("{} = {space}", option("sspace")));
        }
        let finalfunc = format!("{m}finalfunc");
        if let Some(function) = text(&finalfunc)? {
            options.push(format!("{} = {function}", option("finalfunc")));
            if row.try_get::<bool, _>(format!("{finalfunc}_extra").as_str())? {
                options.push(option("finalfunc_extra"));
            }
            options.push(format!(
                "{} = {}",
                option("finalfunc_modify"),
                modify(&format!("{finalfunc}_modify"))?
            ));
        }
        if m.is_empty() {
            for column in ["combinefunc", "serialfunc", "deserialfunc"] {
                if let Some(function) = text(column)? {
                    options.push(format!("{} = {function}", column.to_uppercase()));
                }
            }
        }
        if let Some(initial) = text(&format!("{m}initcond"))? {
            options.push(format!(
                "{} = {}",
                option("initcond"),
                quote_literal(&initial)
            ));
        }
    }
    if let Some(operator) = text("sortop")? {
        options.push(format!("SORTOP = {operator}"));
    }
    match row.try_get::<String, _>("parallel")?.as_str() {
        "s" => options.push("PARALLEL = SAFE".into()),
        "r" => options.push("PARALLEL = RESTRICTED".into()),
        _ => {}
    }
    if row.try_get::<String, _>("kind")? == "h" {
        options.push("HYPOTHETICAL".into());
    }
    Ok(format!(
        "CREATE OR REPLACE AGGREGATE {}.{}({}) (\n    {}\n)",
        quote_ident(&row.try_get::<String, _>("schema")?),
        quote_ident(&row.try_get::<String, _>("name")?),
        row.try_get::<String, _>("arguments")?,
        options.join(",\n    ")
    ))
}

/// `pg_proc.prokind`.
fn function_kind(code: &str) -> RoutineKind {
    match code {
        "p" => RoutineKind::Procedure,
        "a" => RoutineKind::Aggregate,
        "w" => RoutineKind::Window,
        _ => RoutineKind::Function,
    }
}

/// `pg_constraint.contype`.
fn constraint_kind(code: &str) -> ConstraintKind {
    match code {
        "p" => ConstraintKind::PrimaryKey,
        "u" => ConstraintKind::Unique,
        "f" => ConstraintKind::ForeignKey,
        "c" => ConstraintKind::Check,
        "x" => ConstraintKind::Exclusion,
        "n" => ConstraintKind::NotNull,
        "t" => ConstraintKind::Trigger,
        _ => ConstraintKind::Other,
    }
}
