//! Reading domains, composite and range types, extended statistics and the storage settings of
//! tables and columns into a [`Catalog`] whose tables are already read.

use std::collections::BTreeMap;

use sqlx::{PgConnection, Row};

use super::{ReadOptions, qualified, rows};
use crate::catalog::{Attribute, Catalog, Composite, Domain, DomainConstraint, Range, Statistics};

/// The collation `$collation` as SQL names it (`"C"`, `app."german"`) when it is not
/// `$default` (the type's own); NULL otherwise.
macro_rules! collation_other_than {
    ($collation:literal, $default:literal) => {
        concat!(
            "(SELECT CASE WHEN con.nspname = 'pg_catalog' THEN quote_ident(co.collname) \
               ELSE quote_ident(con.nspname) || '.' || quote_ident(co.collname) END \
             FROM pg_collation co JOIN pg_namespace con ON con.oid = co.collnamespace \
             WHERE co.oid = ",
            $collation,
            " AND ",
            $collation,
            " <> ",
            $default,
            ")"
        )
    };
}

const DOMAINS: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS name, \
     format_type(t.typbasetype, t.typtypmod) AS base_type, \
     pg_get_expr(t.typdefaultbin, 0) AS default, t.typnotnull AS not_null, ",
    collation_other_than!("t.typcollation", "b.typcollation"),
    " AS collation, obj_description(t.oid, 'pg_type') AS comment \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_type b ON b.oid = t.typbasetype WHERE t.typtype = 'd' AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_type", "t.oid"),
);

/// The user functions each domain's default and checks call.
const DOMAIN_FUNCTIONS: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS name, \
     array_agg(DISTINCT pn.nspname || '.' || p.proname || '(' \
       || pg_get_function_identity_arguments(p.oid) || ')') AS functions \
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_depend d ON d.refclassid = 'pg_proc'::regclass \
       AND ((d.classid = 'pg_type'::regclass AND d.objid = t.oid) \
         OR (d.classid = 'pg_constraint'::regclass \
           AND d.objid IN (SELECT k.oid FROM pg_constraint k WHERE k.contypid = t.oid))) \
     JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace \
     WHERE t.typtype = 'd' AND pn.nspname NOT IN ('pg_catalog', 'information_schema') AND ",
    user_namespace!(),
    " GROUP BY n.nspname, t.typname"
);

/// CHECK constraints of domains (NOT NULL is the domain's `typnotnull`).
const DOMAIN_CONSTRAINTS: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS domain, k.conname AS name, \
     pg_get_constraintdef(k.oid) AS definition, \
     obj_description(k.oid, 'pg_constraint') AS comment \
     FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid \
     JOIN pg_namespace n ON n.oid = t.typnamespace WHERE k.contype = 'c' AND ",
    user_namespace!(),
);

const COMPOSITES: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS name, obj_description(t.oid, 'pg_type') AS comment \
     FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c' \
     JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'c' AND ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_type", "t.oid"),
);

const ATTRIBUTES: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS composite, a.attname AS name, \
     format_type(a.atttypid, a.atttypmod) AS data_type, ",
    collation_other_than!("a.attcollation", "at.typcollation"),
    " AS collation, col_description(c.oid, a.attnum) AS comment \
     FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c' \
     JOIN pg_namespace n ON n.oid = t.typnamespace \
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     JOIN pg_type at ON at.oid = a.atttypid WHERE t.typtype = 'c' AND ",
    user_namespace!(),
    " ORDER BY n.nspname, t.typname, a.attnum"
);

/// Range types, their options written as `CREATE TYPE ... AS RANGE` takes them: the
/// operator class and collation only when they are not the subtype's defaults.
const RANGES: &str = concat!(
    "SELECT n.nspname AS schema, t.typname AS name, \
     format_type(r.rngsubtype, NULL) AS subtype, r.rngcanonical::oid <> 0 AS canonical, \
     concat_ws(', ', 'SUBTYPE = ' || format_type(r.rngsubtype, NULL), \
       CASE WHEN NOT opc.opcdefault THEN 'SUBTYPE_OPCLASS = ' \
         || format('%I.%I', opn.nspname, opc.opcname) END, \
       'COLLATION = ' || ",
    collation_other_than!("r.rngcollation", "st.typcollation"),
    ", CASE WHEN r.rngcanonical::oid <> 0 THEN 'CANONICAL = ' || r.rngcanonical::text END, \
       CASE WHEN r.rngsubdiff::oid <> 0 THEN 'SUBTYPE_DIFF = ' || r.rngsubdiff::text END, \
       'MULTIRANGE_TYPE_NAME = ' || format('%I.%I', mn.nspname, m.typname)) AS definition, \
     obj_description(t.oid, 'pg_type') AS comment \
     FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid \
     JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type st ON st.oid = r.rngsubtype \
     JOIN pg_opclass opc ON opc.oid = r.rngsubopc \
     JOIN pg_namespace opn ON opn.oid = opc.opcnamespace \
     JOIN pg_type m ON m.oid = r.rngmultitypid JOIN pg_namespace mn ON mn.oid = m.typnamespace \
     WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_type", "t.oid"),
);

/// The constructor functions Postgres makes with a range type and its multirange type
/// (an internal dependency on the type): they come and go with it.
const TYPE_CONSTRUCTORS: &str = concat!(
    "SELECT n.nspname AS schema, p.proname AS name, \
     pg_get_function_identity_arguments(p.oid) AS arguments \
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
     JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid \
       AND d.refclassid = 'pg_type'::regclass AND d.deptype = 'i' WHERE ",
    user_namespace!(),
);

/// Extended statistics; a target below zero (before Postgres 17) or NULL is the default.
const STATISTICS: &str = concat!(
    "SELECT n.nspname AS schema, s.stxname AS name, tn.nspname AS table_schema, \
     c.relname AS table, pg_get_statisticsobjdef(s.oid) AS definition, \
     CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::int4 END AS target, \
     obj_description(s.oid, 'pg_statistic_ext') AS comment \
     FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace \
     JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace \
     WHERE ",
    user_namespace!(),
    " AND ",
    not_in_extension!("pg_statistic_ext", "s.oid"),
);

/// Tables with storage parameters, in the order Postgres keeps them (which pg_dump
/// repeats), their TOAST table's after them with `toast.` in front.
const STORAGE_PARAMETERS: &str = concat!(
    "SELECT * FROM (SELECT n.nspname AS schema, c.relname AS name, \
       coalesce(c.reloptions, '{}') || coalesce((SELECT array_agg('toast.' || o ORDER BY i) \
         FROM pg_class tc, unnest(tc.reloptions) WITH ORDINALITY u(o, i) \
         WHERE tc.oid = c.reltoastrelid), '{}') AS parameters \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND ",
    user_namespace!(),
    ") x WHERE cardinality(x.parameters) > 0"
);

/// Columns of tables with a statistics target, a storage other than their type's or a
/// compression method of their own.
const COLUMN_SETTINGS: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS relation, a.attname AS name, \
     CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int4 END AS statistics_target, \
     CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'plain' \
       WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END END AS storage, \
     CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END AS compression \
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') \
     AND (a.attstattarget >= 0 OR a.attstorage <> t.typstorage \
       OR a.attcompression IN ('p', 'l')) AND ",
    user_namespace!(),
);

/// Storage parameters of the indexes behind primary keys and unique constraints, as
/// `WITH (...)` writes them: `pg_get_constraintdef` leaves them out (it writes them for
/// exclusion constraints).
const CONSTRAINT_INDEX_PARAMETERS: &str = concat!(
    "SELECT n.nspname AS schema, c.relname AS relation, k.conname AS name, \
     (SELECT string_agg(format('%s=%L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), \
        ', ' ORDER BY i) FROM unnest(ic.reloptions) WITH ORDINALITY u(o, i)) AS parameters \
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class ic ON ic.oid = k.conindid \
     WHERE k.contype IN ('p', 'u') AND ic.reloptions IS NOT NULL AND ",
    user_namespace!(),
);

/// `definition` of a primary key or unique constraint with `WITH (parameters)` where
/// the grammar wants it: before the deferrability clauses.
pub(super) fn with_index_parameters(definition: &str, parameters: &str) -> String {
    let at = [" DEFERRABLE", " NOT DEFERRABLE", " INITIALLY "]
        .iter()
        .filter_map(|clause| definition.find(clause))
        .min()
        .unwrap_or(definition.len());
    format!(
        "{} WITH ({parameters}){}",
        &definition[..at],
        &definition[at..]
    )
}

/// Reads the kinds of this file into `catalog`.
pub(super) async fn read_types_and_storage(
    conn: &mut PgConnection,
    options: &ReadOptions,
    catalog: &mut Catalog,
) -> Result<(), sqlx::Error> {
    for row in rows(conn, DOMAINS, options).await? {
        let d = Domain {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            base_type: row.try_get("base_type")?,
            default: row.try_get("default")?,
            not_null: row.try_get("not_null")?,
            collation: row.try_get("collation")?,
            constraints: BTreeMap::new(),
            comment: row.try_get("comment")?,
            depends_on: Vec::new(),
        };
        catalog.domains.insert(qualified(&d.schema, &d.name), d);
    }
    for row in rows(conn, DOMAIN_FUNCTIONS, options).await? {
        let domain = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("name")?,
        );
        if let Some(d) = catalog.domains.get_mut(&domain) {
            d.depends_on = row.try_get("functions")?;
        }
    }
    for row in rows(conn, DOMAIN_CONSTRAINTS, options).await? {
        let domain = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("domain")?,
        );
        let k = DomainConstraint {
            name: row.try_get("name")?,
            definition: row.try_get("definition")?,
            comment: row.try_get("comment")?,
        };
        if let Some(d) = catalog.domains.get_mut(&domain) {
            d.constraints.insert(k.name.clone(), k);
        }
    }
    for row in rows(conn, COMPOSITES, options).await? {
        let c = Composite {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            attributes: Vec::new(),
            comment: row.try_get("comment")?,
        };
        catalog.composites.insert(qualified(&c.schema, &c.name), c);
    }
    for row in rows(conn, ATTRIBUTES, options).await? {
        let composite = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("composite")?,
        );
        let a = Attribute {
            name: row.try_get("name")?,
            data_type: row.try_get("data_type")?,
            collation: row.try_get("collation")?,
            comment: row.try_get("comment")?,
        };
        if let Some(c) = catalog.composites.get_mut(&composite) {
            c.attributes.push(a);
        }
    }
    for row in rows(conn, RANGES, options).await? {
        let r = Range {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            subtype: row.try_get("subtype")?,
            definition: row.try_get("definition")?,
            canonical: row.try_get("canonical")?,
            comment: row.try_get("comment")?,
        };
        catalog.ranges.insert(qualified(&r.schema, &r.name), r);
    }
    for row in rows(conn, TYPE_CONSTRUCTORS, options).await? {
        let key = format!(
            "{}({})",
            qualified(
                &row.try_get::<String, _>("schema")?,
                &row.try_get::<String, _>("name")?
            ),
            row.try_get::<String, _>("arguments")?
        );
        catalog.functions.remove(&key);
    }
    for row in rows(conn, STATISTICS, options).await? {
        let s = Statistics {
            schema: row.try_get("schema")?,
            name: row.try_get("name")?,
            table_schema: row.try_get("table_schema")?,
            table: row.try_get("table")?,
            definition: row.try_get("definition")?,
            target: row.try_get("target")?,
            comment: row.try_get("comment")?,
        };
        catalog.statistics.insert(qualified(&s.schema, &s.name), s);
    }
    for row in rows(conn, STORAGE_PARAMETERS, options).await? {
        let table = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("name")?,
        );
        if let Some(t) = catalog.tables.get_mut(&table) {
            t.storage_parameters = row.try_get("parameters")?;
        }
    }
    for row in rows(conn, CONSTRAINT_INDEX_PARAMETERS, options).await? {
        let table = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("relation")?,
        );
        let name: String = row.try_get("name")?;
        let parameters: String = row.try_get("parameters")?;
        let constraint = catalog
            .tables
            .get_mut(&table)
            .and_then(|t| t.constraints.get_mut(&name));
        if let Some(k) = constraint {
            k.definition = with_index_parameters(&k.definition, &parameters);
        }
    }
    for row in rows(conn, COLUMN_SETTINGS, options).await? {
        let table = qualified(
            &row.try_get::<String, _>("schema")?,
            &row.try_get::<String, _>("relation")?,
        );
        let name: String = row.try_get("name")?;
        let column = catalog
            .tables
            .get_mut(&table)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == name));
        if let Some(c) = column {
            c.statistics_target = row.try_get("statistics_target")?;
            c.storage = row.try_get("storage")?;
            c.compression = row.try_get("compression")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_index_parameters;

    #[test]
    fn index_parameters_go_before_the_deferrability_clauses() {
        assert_eq!(
            with_index_parameters("PRIMARY KEY (id)", "fillfactor='70'"),
            "PRIMARY KEY (id) WITH (fillfactor='70')"
        );
        assert_eq!(
            with_index_parameters(
                "UNIQUE (a) INCLUDE (b) DEFERRABLE INITIALLY DEFERRED",
                "fillfactor='70', deduplicate_items='off'"
            ),
            "UNIQUE (a) INCLUDE (b) WITH (fillfactor='70', deduplicate_items='off') DEFERRABLE INITIALLY DEFERRED"
        );
    }
}
