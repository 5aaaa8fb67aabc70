//! What a view or function depends on, read from `pg_depend` (a macro, since each
//! reader puts it in a query of its own).

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
